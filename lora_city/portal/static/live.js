// The technician's live page: poll the status JSON every few seconds and update the verdict, facts and table.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var every = Number(root.dataset.refresh || 3) * 1000;

  function text(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
  function cell(row, value) { var td = document.createElement("td"); td.textContent = value === null ? "—" : String(value); row.appendChild(td); }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

  function apply(s) {
    var verdict = document.getElementById("verdict");
    var label = s.verdict === "go" ? root.dataset.go : root.dataset.noGo;
    if (verdict.textContent !== label) { verdict.textContent = label; }
    verdict.className = "verdict verdict-" + s.verdict;
    text("joined", s.joined ? root.dataset.yes : root.dataset.no);
    text("join-events", String(s.join_events));
    text("dev-addr", s.dev_addr || "—");
    text("first-uplink", when(s.first_uplink_at));
    text("best-margin", s.best_margin === null ? "—" : s.best_margin + " dB");
    var reasons = document.getElementById("reasons");
    reasons.textContent = "";
    s.reasons.forEach(function (r) {
      var li = document.createElement("li");
      li.className = r.blocking ? "blocking" : "advice";
      li.textContent = r.message;
      reasons.appendChild(li);
    });
    var body = document.querySelector("#signal-table tbody");
    var rows = [];
    s.uplinks.forEach(function (u) {
      u.gateways.forEach(function (g) {
        var tr = document.createElement("tr");
        [when(u.time), u.f_cnt, g.gateway_id, g.rssi, g.snr, g.spreading_factor, g.link_margin].forEach(function (v) { cell(tr, v); });
        rows.push(tr);
      });
    });
    if (rows.length) { body.textContent = ""; rows.forEach(function (tr) { body.appendChild(tr); }); }
    text("updated", new Date().toLocaleTimeString());
    root.dataset.verdict = s.verdict;
  }

  function poll() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(apply)
      .catch(function () { /* a flaky connection on a pole: keep the last state and try again */ })
      .finally(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
