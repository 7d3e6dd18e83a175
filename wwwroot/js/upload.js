// Report upload: drag-and-drop zone and a real progress bar (XMLHttpRequest upload events).
// Without JavaScript the form is a plain multipart POST and everything still works.
"use strict";
(function () {
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var hint = form.querySelector("[data-drop-hint]");
  var list = form.querySelector("[data-file-list]");
  var bar = form.querySelector("[data-progress]");
  var results = document.getElementById("upload-results");
  var button = form.querySelector("button[type=submit]");

  function showNames() {
    var names = [];
    for (var i = 0; i < input.files.length; i++) names.push(input.files[i].name);
    list.textContent = names.join(", ");
  }

  if (zone && input) {
    if (hint) hint.hidden = false;
    input.addEventListener("change", showNames);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; showNames(); }
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (p) {
      if (p.lengthComputable) { bar.value = Math.round(p.loaded * 100 / p.total); bar.textContent = bar.value + " %"; }
    });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      bar.hidden = true;
      results.innerHTML = xhr.responseText;
      if (xhr.status === 200) {
        input.value = "";
        list.textContent = "";
        if (window.htmx) window.htmx.trigger(document.body, "reports-changed");
      }
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      bar.hidden = true;
      results.textContent = "Erreur réseau : l'envoi n'a pas abouti. Réessayez.";
    });
    xhr.send(new FormData(form));
  });
})();
