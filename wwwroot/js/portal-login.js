// Patient login: live format hints for the key and the password (no library; the form works without it).
"use strict";
(function () {
  var KEY = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]*$/;
  var PWD = /^[abcdefghjkmnpqrstuvwxyz23456789]*$/;
  function hint(input, el, text, state) {
    el.textContent = text;
    el.className = "hint" + (state ? " " + state : "");
    input.setAttribute("aria-invalid", state === "bad" ? "true" : "false");
  }
  function watch(id, hintId, clean, length, pattern, name, example) {
    var input = document.getElementById(id), el = document.getElementById(hintId);
    if (!input || !el) return;
    input.addEventListener("input", function () {
      var v = clean(input.value);
      if (v.length === 0) return hint(input, el, example, "");
      if (!pattern.test(v)) return hint(input, el, "Caractère non valide : " + name + " n'utilise ni O, 0, I, 1 ni L.", "bad");
      if (v.length < length) return hint(input, el, v.length + " sur " + length + " caractères.", "");
      if (v.length > length) return hint(input, el, "Trop long : " + length + " caractères attendus.", "bad");
      hint(input, el, "Format correct (" + length + " caractères).", "good");
    });
  }
  watch("key", "key-hint", function (v) { return v.replace(/[\s-]/g, "").toUpperCase(); }, 12, KEY, "la clé",
    "12 lettres et chiffres, comme sur votre facture (ex. ABCD-EFGH-JKMN).");
  watch("password", "password-hint", function (v) { return v.trim().toLowerCase(); }, 8, PWD, "le mot de passe",
    "8 lettres minuscules et chiffres.");
})();
