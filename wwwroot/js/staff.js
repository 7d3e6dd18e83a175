// Staff pages: small progressive enhancements only (everything works without JavaScript).
"use strict";
document.addEventListener("htmx:afterRequest", function (evt) {
  var msg = evt.detail.xhr && evt.detail.xhr.getResponseHeader("X-Toast");
  if (msg) {
    var toast = document.getElementById("toast");
    if (toast) { toast.textContent = decodeURIComponent(msg); setTimeout(function () { toast.textContent = ""; }, 4000); }
  }
});
document.addEventListener("submit", function (evt) {
  var form = evt.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) evt.preventDefault();
}, true);
