// No inline scripts (the Content-Security-Policy forbids them): behaviour hooks live here.
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-print]");
  if (t) { e.preventDefault(); window.print(); }
});
