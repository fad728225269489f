// Gateways and assets on a map: a plain background unless the city configured a tile server (no request leaves for the
// internet otherwise). Green dots are online gateways, red ones offline.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var data = document.getElementById("gateway-data");
  if (!el || !data || typeof L === "undefined") { return; }
  var parsed = JSON.parse(data.textContent);
  var gateways = parsed.gateways.filter(function (g) { return g.lat !== null && g.lon !== null; });
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
  // Assets (poles, meters, gauges) as small squares under the gateways' dots.
  var assets = parsed.assets.map(function (a) {
    var icon = L.divIcon({ className: "asset-dot asset-" + a.kind, iconSize: [10, 10] });
    var kind = el.dataset["kind" + a.kind.charAt(0).toUpperCase() + a.kind.slice(1)] || a.kind;
    var label = a.name + " (" + kind + ")";
    return L.marker([a.lat, a.lon], { icon: icon, title: label, alt: label, keyboard: false, zIndexOffset: -100 })
      .bindPopup(document.createTextNode(label)).addTo(map);
  });
  el.dataset.assets = String(assets.length);
  var all = markers.concat(assets);
  if (all.length) {
    map.fitBounds(L.featureGroup(all).getBounds().pad(0.2), { maxZoom: 16 });
  } else {
    map.setView([46.6, 2.4], 5);  // France, until the first gateway has a position
  }
})();
