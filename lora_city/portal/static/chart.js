// Device charts: one uPlot chart per measurement family (levels, metering, electrical, environment, health …),
// each series with its translated name, units on up to two axes; flags (lamp on, leak, flood …) as state
// timelines, not lines between 0 and 1. Times on the axes and in the legend in the page's language, in the
// city's time zone (Europe/Paris), on a 24-hour clock in French.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  var form = document.getElementById("range-form");
  if (!box || !form || typeof uPlot === "undefined") { return; }
  var lang = document.documentElement.lang || "fr";
  var TZ = "Europe/Paris";
  var COLOURS = ["#0b4f8a", "#a31621", "#17663a", "#8a5200", "#5b2a86", "#00707a", "#4a5360"];
  var charts = [];

  function fmt(options) {
    return new Intl.DateTimeFormat(lang, Object.assign({ timeZone: TZ, hourCycle: "h23" }, options));
  }
  var hm = fmt({ hour: "2-digit", minute: "2-digit" });
  var hms = fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
  var dayHm = fmt({ day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
  var day = fmt({ day: "2-digit", month: "2-digit" });
  var full = fmt({ day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  var num = new Intl.NumberFormat(lang, { maximumFractionDigits: 3 });

  function timeTicks(u, splits) {
    var range = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    var f = range > 3 * 86400 ? day : range > 20 * 3600 ? dayHm : range > 600 ? hm : hms;
    return splits.map(function (s) { return f.format(new Date(s * 1000)); });
  }

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

  function figure(key, caption, names) {
    var fig = document.createElement("figure");
    fig.dataset.family = key;
    fig.dataset.measurements = names.join(" ");
    var cap = document.createElement("figcaption");
    cap.textContent = caption;
    fig.appendChild(cap);
    box.appendChild(fig);
    return fig;
  }

  function drawFamily(fam, t, width) {
    var units = [];
    fam.series.forEach(function (s) { var u = s.unit_label || ""; if (units.indexOf(u) < 0) { units.push(u); } });
    var caption = fam.label + " — " + fam.series.map(function (s) {
      return s.label + (s.unit_label ? " (" + s.unit_label + ")" : "");
    }).join(", ");
    var fig = figure(fam.key, caption, fam.series.map(function (s) { return s.name; }));
    var scales = { x: { time: true } };
    var axes = [{ values: timeTicks, space: 60 }];
    units.forEach(function (u, i) {
      var key = "u" + i;
      scales[key] = {};
      if (i < 2) {  // two value axes at most (left, right); further units read from the legend
        axes.push({ scale: key, label: u, side: i === 0 ? 3 : 1, grid: { show: i === 0 },
                    values: function (self, ticks) { return ticks.map(function (v) { return num.format(v); }); } });
      }
    });
    var series = [{ label: box.dataset.time, value: function (self, v) { return v == null ? "—" : full.format(new Date(v * 1000)); } }];
    fam.series.forEach(function (s, i) {
      series.push({
        label: s.label + (s.unit_label ? " (" + s.unit_label + ")" : ""), scale: "u" + units.indexOf(s.unit_label || ""),
        stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true, points: { show: t.length < 200 },
        value: function (self, v) { return v == null ? "—" : num.format(v); },
      });
    });
    var data = [t].concat(fam.series.map(function (s) { return s.values; }));
    charts.push(new uPlot({ width: width, height: 180, scales: scales, axes: axes, series: series }, data, fig));
  }

  function drawStates(states, t, width) {
    if (!states.length || !t.length) { return; }
    var fig = figure("states", box.dataset.states, states.map(function (s) { return s.name; }));
    var t0 = t[0], t1 = t[t.length - 1], span = Math.max(1, t1 - t0);
    states.forEach(function (s) {
      var row = document.createElement("div");
      row.className = "state-row";
      row.dataset.measurement = s.name;
      var label = document.createElement("span");
      label.className = "state-label";
      label.textContent = s.label;
      var bar = document.createElement("div");
      bar.className = "state-bar";
      bar.setAttribute("role", "list");
      bar.setAttribute("aria-label", s.label);
      s.segments.forEach(function (seg) {
        var part = document.createElement("span");
        part.className = "state-seg " + (seg[2] ? "state-on" : "state-off");
        part.setAttribute("role", "listitem");
        part.style.left = (100 * (seg[0] - t0) / span) + "%";
        part.style.width = Math.max(0.5, 100 * (seg[1] - seg[0]) / span) + "%";
        part.title = (seg[2] ? box.dataset.on : box.dataset.off) + " : " + dayHm.format(new Date(seg[0] * 1000)) +
          " – " + dayHm.format(new Date(seg[1] * 1000));
        part.textContent = part.title;
        bar.appendChild(part);
      });
      row.appendChild(label);
      row.appendChild(bar);
      fig.appendChild(row);
    });
    var axis = document.createElement("div");
    axis.className = "state-axis";
    axis.innerHTML = "";
    [t0, t1].forEach(function (x) {
      var s = document.createElement("span");
      s.textContent = (span > 20 * 3600 ? dayHm : hm).format(new Date(x * 1000));
      axis.appendChild(s);
    });
    fig.appendChild(axis);
  }

  function draw(data) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    box.textContent = "";
    box.dataset.points = String(data.points);
    if (!data.points || (!data.families.length && !data.states.length)) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = box.dataset.empty;
      box.appendChild(p);
      return;
    }
    var width = Math.max(280, Math.min(box.clientWidth - 20, 1100));
    data.families.forEach(function (fam) { drawFamily(fam, data.t, width); });
    drawStates(data.states, data.t, width);
    if (data.truncated) {
      var note = document.createElement("p");
      note.className = "muted small";
      note.textContent = box.dataset.truncated;
      box.appendChild(note);
    }
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
