// A page region that follows the server by itself (the alerts page): every data-refresh-s seconds the page is
// fetched again from the same address (its filters included) and the region swapped for the fresh one. Polling,
// not a stream: it works through any proxy, and a missed round only delays the next. The region is left alone
// while the person works in it (focus on an "Acknowledge" button) or the tab is hidden, so nothing moves under
// a keyboard user's feet.
(function () {
  "use strict";
  var region = document.querySelector("[data-refresh-s]");
  if (!region || !window.fetch || !window.DOMParser) { return; }
  var period = Math.max(5, parseInt(region.getAttribute("data-refresh-s"), 10) || 30) * 1000;
  var rounds = 0;

  function busy() {
    return document.hidden || region.contains(document.activeElement);
  }

  function tick() {
    if (busy()) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (!fresh || busy()) { return; }
        region.innerHTML = fresh.innerHTML;
        rounds += 1;
        region.setAttribute("data-rounds", String(rounds));
        region.removeAttribute("data-stale");
      })
      .catch(function () { region.setAttribute("data-stale", "1"); });  // offline: the next round tries again
  }

  window.setInterval(tick, period);
})();
