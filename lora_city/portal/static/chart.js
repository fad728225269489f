// Device charts: fetch the portal's readings JSON for the chosen range and draw one uPlot chart per measurement.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  var form = document.getElementById("range-form");
  if (!box || !form || typeof uPlot === "undefined") { return; }
  var charts = [];

  function query() {
    var range = form.elements.range.value;
    var params = new URLSearchParams();
    if (range === "custom") {
      // datetime-local has no zone: the browser's local time, sent as an ISO instant.
      if (form.elements.start.value) { params.set("start", new Date(form.elements.start.value).toISOString()); }
      if (form.elements.end.value) { params.set("end", new Date(form.elements.end.value).toISOString()); }
    } else {
      params.set("range", range);
    }
    return params.toString();
  }

  function draw(data) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    box.textContent = "";
    box.dataset.points = String(data.points);
    if (!data.points || !data.series.length) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = box.dataset.empty;
      box.appendChild(p);
      return;
    }
    var width = Math.max(280, Math.min(box.clientWidth - 20, 1100));
    data.series.forEach(function (s) {
      var fig = document.createElement("figure");
      var caption = document.createElement("figcaption");
      caption.textContent = s.name + (s.unit ? " (" + s.unit + ")" : "");
      fig.appendChild(caption);
      fig.dataset.measurement = s.name;
      box.appendChild(fig);
      var opts = {
        width: width, height: 220,
        series: [{}, { label: s.name, stroke: "#0b4f8a", width: 2, spanGaps: true, points: { show: data.points < 200 } }],
        axes: [{}, { label: s.unit || "" }],
      };
      charts.push(new uPlot(opts, [data.t, s.values], fig));
    });
  }

  function load() {
    box.setAttribute("aria-busy", "true");
    fetch(box.dataset.url + "?" + query(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(draw)
      .catch(function (e) { box.textContent = e.message; })
      .finally(function () { box.removeAttribute("aria-busy"); });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  load();
})();
