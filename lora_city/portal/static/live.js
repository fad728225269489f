// The installer's live page: every few seconds, fetch the server-rendered panel (verdict, reasons, one row per
// gateway) and swap it in when it changed. A flaky connection on a pole keeps the last state and tries again.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var every = Number(root.dataset.refresh || 3) * 1000;
  var last = null;

  function poll() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        // The "updated at" line changes every time: compare without it, so unchanged figures are not re-read
        // aloud by screen readers.
        var key = html.replace(/<p class="muted small">[\s\S]*?<\/p>/, "");
        if (key !== last) { root.innerHTML = html; last = key; }
        else {
          var tmp = document.createElement("div");
          tmp.innerHTML = html;
          var fresh = tmp.querySelector("p.muted.small"), old = root.querySelector("p.muted.small");
          if (fresh && old) { old.textContent = fresh.textContent; }
        }
        root.dataset.polled = String(Number(root.dataset.polled || 0) + 1);
      })
      .catch(function () { /* keep the last state */ })
      .finally(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
