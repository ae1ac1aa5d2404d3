// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  var exitUrl = "/exit";

  function quickExit(event) {
    if (event) { event.preventDefault(); }
    // replace(): the portal page does not stay in the back-button history.
    window.location.replace(exitUrl);
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

  // Shared devices: when the session's idle time has passed, leave the page.
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

  // Put focus on an error summary, so screen readers announce it first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // After an HTMX swap, move focus to the new content so it is announced.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail && event.detail.target;
    var id = swapped && swapped.id;
    var fresh = id ? document.getElementById(id) : null;
    if (fresh && fresh.hasAttribute("tabindex")) { fresh.focus(); }
  });
})();
