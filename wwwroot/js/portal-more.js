// Patient history « Voir plus »: fetches the next rows as the page's htmx fragment and puts them in place of the
// link (no library; without JavaScript the link opens the next page).
"use strict";
document.addEventListener("click", function (e) {
  var a = e.target.closest ? e.target.closest("a[data-more]") : null;
  if (!a) return;
  e.preventDefault();
  a.setAttribute("aria-busy", "true");
  fetch(a.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (r) {
    var to = r.headers.get("HX-Redirect");
    if (to || !r.ok) { location.href = to || a.href; return; }
    return r.text().then(function (html) {
      var nav = a.closest("#more"), prev = nav.previousElementSibling;
      nav.outerHTML = html;
      var list = prev && prev.nextElementSibling;
      if (list) list.focus();
    });
  }).catch(function () { location.href = a.href; });
});
