// No inline scripts (the Content-Security-Policy forbids them): behaviour hooks live here.
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-print]");
  if (t) { e.preventDefault(); window.print(); }
});

// The CSRF token is bound to the session, so it changes at sign-in and sign-out while a
// boosted page keeps its <body> (and its hx-headers): send the current one from the cookie.
document.addEventListener("htmx:configRequest", function (e) {
  var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) { e.detail.headers["X-CSRF-Token"] = decodeURIComponent(m[1]); }
});
