// Patient login: live format hints for the key and the password (no library; the form works without it). The words
// come from the page, in the patient's language: the form's data-count/-long/-ok, each hint's data-bad and text.
// It also ends the phone's current patient for the service worker (portal-sw.js).
"use strict";
(function () {
  var KEY = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]*$/;
  var PWD = /^[abcdefghjkmnpqrstuvwxyz23456789]*$/;
  // Whoever opens the login page is not (yet) the phone's current patient: the service worker stops opening the kept
  // copies offline until a dashboard names a patient again.
  if (navigator.serviceWorker) navigator.serviceWorker.getRegistration("/patient/").then(function (r) {
    if (r && r.active) r.active.postMessage("end");
  });
  var form = document.querySelector("form[data-count]");
  if (!form) return;
  function words(name, a, b) {
    return (form.getAttribute("data-" + name) || "").replace("{0}", a).replace("{1}", b);
  }
  function hint(input, el, text, state) {
    el.textContent = text;
    el.className = "hint" + (state ? " " + state : "");
    input.setAttribute("aria-invalid", state === "bad" ? "true" : "false");
  }
  function watch(id, hintId, clean, length, pattern) {
    var input = document.getElementById(id), el = document.getElementById(hintId);
    if (!input || !el) return;
    var example = el.textContent, bad = el.getAttribute("data-bad") || "";
    input.addEventListener("input", function () {
      var v = clean(input.value);
      if (v.length === 0) return hint(input, el, example, "");
      if (!pattern.test(v)) return hint(input, el, bad, "bad");
      if (v.length < length) return hint(input, el, words("count", v.length, length), "");
      if (v.length > length) return hint(input, el, words("long", length), "bad");
      hint(input, el, words("ok", length), "good");
    });
  }
  watch("key", "key-hint", function (v) { return v.replace(/[\s-]/g, "").toUpperCase(); }, 12, KEY);
  watch("password", "password-hint", function (v) { return v.trim().toLowerCase(); }, 8, PWD);
})();
