// Starts ReDoc on the schema of this API (a file, not an inline script, so our CSP allows it).
window.addEventListener("DOMContentLoaded", function () {
  Redoc.init(document.body.dataset.schemaUrl, {}, document.getElementById("redoc"));
});
