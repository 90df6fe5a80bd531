// The presentation's timer: how long the case on screen has been discussed, against its slot, and how far
// the meeting runs behind its agenda. A file, not an inline script, so the strict CSP allows it; it reads
// the times the server put in data attributes, so a redrawn presentation simply carries new ones.
(function () {
  "use strict";

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-timer-since]").forEach(function (clock) {
      var seconds = Math.max(0, Math.floor((now - Date.parse(clock.dataset.timerSince)) / 1000));
      var limit = Number(clock.dataset.timerMinutes) * 60;
      clock.textContent = Math.floor(seconds / 60) + ":" + pad(seconds % 60);
      var timer = clock.closest(".timer");
      if (timer) {
        timer.classList.toggle("over", seconds > limit);
      }
    });
    document.querySelectorAll("[data-slot-ends]").forEach(function (late) {
      var minutes = Math.floor((now - Date.parse(late.dataset.slotEnds)) / 60000);
      late.textContent = minutes > 0 ? " · " + minutes + " min behind the agenda" : "";
    });
  }

  document.addEventListener("DOMContentLoaded", tick);
  window.setInterval(tick, 1000);
})();
