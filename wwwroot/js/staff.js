// Staff pages: small progressive enhancements only (everything works without JavaScript).
"use strict";
// The server's HX-Trigger {"toast": "message"} arrives as this event (htmx puts a plain value in detail.value).
document.addEventListener("toast", function (evt) {
  var toast = document.getElementById("toast");
  if (toast) { toast.textContent = evt.detail.value; setTimeout(function () { toast.textContent = ""; }, 4000); }
});
document.addEventListener("submit", function (evt) {
  var form = evt.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) evt.preventDefault();
}, true);
