// Street lamps on a map, coloured by what they last reported: lit, off, or in fault. A plain background unless the
// city configured a tile server (no request leaves for the internet otherwise).
(function () {
  "use strict";
  var el = document.getElementById("map");
  var data = document.getElementById("lamp-data");
  if (!el || !data || typeof L === "undefined") { return; }
  var lamps = JSON.parse(data.textContent).filter(function (l) { return l.lat !== null && l.lon !== null; });
  var map = L.map(el, { attributionControl: Boolean(el.dataset.tileUrl) });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  var markers = lamps.map(function (l) {
    var icon = L.divIcon({ className: "lamp-dot lamp-" + l.state, iconSize: [14, 14] });
    var label = l.name + " – " + el.dataset[l.state] + (l.level !== null ? " (" + l.level + " %)" : "");
    return L.marker([l.lat, l.lon], { icon: icon, title: label, alt: label, keyboard: true })
      .bindPopup(document.createTextNode(label)).addTo(map);
  });
  el.dataset.markers = String(markers.length);
  if (markers.length) {
    map.fitBounds(L.featureGroup(markers).getBounds().pad(0.2), { maxZoom: 17 });
  } else {
    map.setView([46.6, 2.4], 5);
  }
})();
