// "Use my position" (the browser's Geolocation API, high accuracy: the phone's GPS on site), the finder's small
// map of the assets found around the technician, and the photo's preview before it is sent.
(function () {
  "use strict";

  function round(x) { return String(Math.round(x * 1e6) / 1e6); }  // ~0.1 m: more digits would be noise

  function fill(form, lat, lon) {
    var la = form.elements.latitude || form.elements.lat;
    var lo = form.elements.longitude || form.elements.lon;
    if (la) { la.value = round(lat); la.dispatchEvent(new Event("input", { bubbles: true })); }
    if (lo) { lo.value = round(lon); lo.dispatchEvent(new Event("input", { bubbles: true })); }
  }

  Array.prototype.forEach.call(document.querySelectorAll(".geo-button"), function (button) {
    var form = document.getElementById(button.dataset.geoFill);
    var status = button.parentNode.querySelector(".geo-status");
    if (!form || !("geolocation" in navigator)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) { status.textContent = button.dataset.msgWait; }
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        button.disabled = false;
        fill(form, pos.coords.latitude, pos.coords.longitude);
        if (status) {
          status.textContent = (button.dataset.msgDone || "").replace("{m}", String(Math.round(pos.coords.accuracy)));
        }
        form.dataset.geoFilled = "1";
        if (button.dataset.geoSubmit) { form.submit(); }
      }, function (err) {
        button.disabled = false;
        if (status) { status.textContent = err.code === 1 ? button.dataset.msgDenied : button.dataset.msgUnavailable; }
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
    });
  });

  var mapEl = document.getElementById("finder-map");
  var data = document.getElementById("finder-data");
  if (mapEl && data && typeof L !== "undefined") {
    var points = JSON.parse(data.textContent);
    var map = L.map(mapEl, { attributionControl: Boolean(mapEl.dataset.tileUrl) });
    if (mapEl.dataset.tileUrl) {
      L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
    }
    var markers = points.map(function (p) {
      var label = (p.ref ? p.ref + " " : "") + p.name;
      var icon = L.divIcon({ className: "asset-dot", iconSize: [14, 14] });
      return L.marker([p.lat, p.lon], { icon: icon, title: label, alt: label, keyboard: true })
        .bindPopup(document.createTextNode(label)).addTo(map);
    });
    if (mapEl.dataset.meLat && mapEl.dataset.meLon) {
      var me = L.circleMarker([Number(mapEl.dataset.meLat), Number(mapEl.dataset.meLon)],
                              { radius: 8, color: "#a31621", fillOpacity: 0.8 }).bindTooltip(mapEl.dataset.meLabel);
      markers.push(me.addTo(map));
    }
    mapEl.dataset.markers = String(points.length);
    if (markers.length) { map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), { maxZoom: 18 }); }
  }

  var photo = document.getElementById("photo");
  var preview = document.getElementById("photo-preview");
  if (photo && preview && window.URL && URL.createObjectURL) {
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      if (!file) { preview.hidden = true; return; }
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    });
  }
})();
