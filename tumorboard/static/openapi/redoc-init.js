// Starts ReDoc on the schema of this API (a file, not an inline script, so our CSP allows it).
window.addEventListener("DOMContentLoaded", function () {
  // Search runs in a worker made from a blob: URL, which the CSP does not allow; the rest works without it.
  Redoc.init(document.body.dataset.schemaUrl, { disableSearch: true }, document.getElementById("redoc"));
});
