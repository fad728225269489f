// A position picked on the map: a click (or a tap) writes the latitude and longitude fields and moves the marker;
// typing in the fields moves the marker too, so the keyboard alone sets a position. Without a tile server the map
// is a plain background with the city's other gateways as landmarks.
(function () {
  "use strict";
  var el = document.getElementById("pick-map");
  if (!el || typeof L === "undefined") { return; }
  var lat = document.getElementById(el.dataset.lat);
  var lon = document.getElementById(el.dataset.lon);
  var map = L.map(el, { attributionControl: Boolean(el.dataset.tileUrl) });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  var marker = null;
  function number(input) {
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }
  function place(moveView) {
    var a = number(lat), b = number(lon);
    if (a === null || b === null || Math.abs(a) > 90 || Math.abs(b) > 180) { return; }
    if (marker) { marker.setLatLng([a, b]); } else { marker = L.marker([a, b], { keyboard: false }).addTo(map); }
    el.dataset.picked = a.toFixed(6) + "," + b.toFixed(6);
    if (moveView) { map.setView([a, b], Math.max(map.getZoom() || 0, 15)); }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    place(false);
  });
  lat.addEventListener("change", function () { place(true); });
  lon.addEventListener("change", function () { place(true); });
  if (number(lat) !== null && number(lon) !== null) {
    map.setView([number(lat), number(lon)], 15);
    place(false);
  } else {
    map.setView([46.6, 2.4], 5);  // France, until a position is given
  }
  el.dataset.ready = "1";
})();
