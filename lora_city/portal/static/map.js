// Gateways on a map: a plain background unless the city configured a tile server (no request leaves for the
// internet otherwise). Green dots are online gateways, red ones offline.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var data = document.getElementById("gateway-data");
  if (!el || !data || typeof L === "undefined") { return; }
  var gateways = JSON.parse(data.textContent).filter(function (g) { return g.lat !== null && g.lon !== null; });
  var map = L.map(el, { attributionControl: Boolean(el.dataset.tileUrl) });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  var markers = gateways.map(function (g) {
    var icon = L.divIcon({ className: "gw-dot " + (g.online ? "gw-online" : "gw-offline"), iconSize: [16, 16] });
    var label = g.name + " (" + g.id + ") – " + (g.online ? el.dataset.online : el.dataset.offline);
    return L.marker([g.lat, g.lon], { icon: icon, title: label, alt: label, keyboard: true })
      .bindPopup(document.createTextNode(label)).addTo(map);
  });
  el.dataset.markers = String(markers.length);
  if (markers.length) {
    map.fitBounds(L.featureGroup(markers).getBounds().pad(0.2), { maxZoom: 16 });
  } else {
    map.setView([46.6, 2.4], 5);  // France, until the first gateway has a position
  }
})();
