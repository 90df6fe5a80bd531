// Clears the patient data a live page shows once its session has ended: when the live stream says so
// (sign-out anywhere, expiry, deactivation, password reset), when reconnecting is refused, and at the
// session's absolute end at the latest (even without a connection).
(function () {
  "use strict";
  var ended = false;

  function endSession(message) {
    if (ended) return;
    ended = true;
    var main = document.getElementById("main");
    if (!main) return;
    main.replaceChildren();
    var notice = document.createElement("section");
    notice.className = "card narrow";
    var text = document.createElement("p");
    text.className = "flash flash-error";
    text.setAttribute("role", "alert");
    text.dataset.testid = "session-ended";
    text.textContent = message;
    var link = document.createElement("a");
    link.className = "button";
    link.href = "/login?next=" + encodeURIComponent(location.pathname);
    link.textContent = "Sign in again";
    notice.append(text, link);
    main.append(notice);
    document.title = "Signed out · Tumorboard";
  }

  var SIGNED_OUT = "Your session has ended, so this page no longer shows patient data.";
  document.addEventListener("session-ended", function () { endSession(SIGNED_OUT); });
  document.addEventListener("htmx:sse:error", function (event) {
    var status = event.detail && event.detail.status;
    if (status === 401) endSession(SIGNED_OUT);
    if (status === 403) endSession("You can no longer see this meeting, so this page no longer shows it.");
  });
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.querySelector("[data-session-ends-in]");
    var seconds = holder ? parseInt(holder.dataset.sessionEndsIn, 10) : NaN;
    if (!isNaN(seconds)) setTimeout(function () { endSession(SIGNED_OUT); }, Math.min(seconds, 86400) * 1000);
  });
})();
