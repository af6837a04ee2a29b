/* Active coding time for the coder's open assignment on the coding screen.
 *
 * A second counts when the page is visible and focused and the coder used the keyboard, mouse
 * or touch within the last minute: time spent reading counts, a tab left open over lunch does
 * not. Every 30 counted seconds (and when the page is hidden or left) the count goes to the
 * assignment's beat URL, which adds it (at most 120 s per beat) and refreshes the assignment's
 * last activity, so work in progress is not released as abandoned.
 *
 * Loaded only where #assignment carries data-beat-url (an open assignment of this coder).
 */
(function () {
  "use strict";
  const bar = document.getElementById("assignment");
  const url = bar && bar.dataset.beatUrl;
  if (!url) return;
  const IDLE_AFTER_MS = 60000;
  const SEND_EVERY_S = 30;
  let lastInput = Date.now();
  let pending = 0;

  function csrfToken() {
    // base.html puts it in the body's hx-headers (JSON), for htmx; reuse it here.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function send(leaving) {
    if (pending === 0) return;
    const body = new FormData();
    body.append("seconds", String(pending));
    body.append("csrfmiddlewaretoken", csrfToken());
    pending = 0;
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
    } else {
      fetch(url, { method: "POST", body: body, credentials: "same-origin" }).catch(() => {});
    }
  }

  ["keydown", "mousedown", "mousemove", "wheel", "touchstart", "scroll"].forEach((type) => {
    document.addEventListener(type, () => { lastInput = Date.now(); }, { passive: true, capture: true });
  });
  setInterval(() => {
    const active = document.visibilityState === "visible" && document.hasFocus()
      && Date.now() - lastInput < IDLE_AFTER_MS;
    if (active) pending += 1;
    if (pending >= SEND_EVERY_S) send(false);
  }, 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") send(true);
  });
  window.addEventListener("pagehide", () => send(true));
})();
