// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // --- Quick exit ---------------------------------------------------------------------------
  // Without this script the button is a plain link to /exit, which ends the session and
  // redirects to a neutral site. With it, the page is blanked at once and replace() swaps the
  // current history entry for /exit, so the back button cannot bring the portal page back.
  function quickExit(event) {
    if (event) { event.preventDefault(); }
    document.title = "";
    document.body.hidden = true;
    window.location.replace("/exit");
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("#quick-exit");
    if (target) { quickExit(event); }
  });

  // Escape pressed twice quickly also leaves at once.
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEscape < 600) { quickExit(); }
    lastEscape = now;
  });

  // --- Shared devices: leave the page once the session's idle time has passed -----------------
  var body = document.body;
  if (body && body.dataset.signedIn === "true") {
    var minutes = parseInt(body.dataset.idleMinutes || "15", 10);
    var timer;
    var reset = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.replace("/login?idle=1"); }, minutes * 60000);
    };
    ["click", "keydown", "touchstart"].forEach(function (name) {
      document.addEventListener(name, reset, { passive: true });
    });
    reset();
  }

  // --- Focus ----------------------------------------------------------------------------------
  // An error summary is announced first (autofocus does it too; this covers older browsers).
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // After an HTMX swap, move focus to the new content so a screen reader announces it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail && event.detail.target;
    var id = swapped && swapped.id;
    var fresh = id ? document.getElementById(id) : null;
    if (fresh) {
      // Announced by focus; scrolled only if it is out of sight (the page keeps its place).
      var box = fresh.getBoundingClientRect();
      var inView = box.top >= 0 && box.top < window.innerHeight;
      if (fresh.hasAttribute("tabindex")) { fresh.focus({ preventScroll: inView }); }
    }
  });
})();
