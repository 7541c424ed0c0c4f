/* 受理初筛: clicking the map fills the location fields (no inline script: the CSP allows none). */
(function () {
  'use strict';
  var spec = JSON.parse(document.getElementById('pick-spec').textContent);
  var state = { ready: false, picked: null };
  window.zgPick = state;
  var map = L.map('pick-map', { zoomControl: true, attributionControl: true });
  spec.tiles.forEach(function (t) {
    L.tileLayer(t.url, { subdomains: t.subdomains || 'abc', maxZoom: t.maxZoom || 18 }).addTo(map);
  });
  if (spec.attribution) { map.attributionControl.setPrefix(false).addAttribution(spec.attribution); }
  spec.schools.forEach(function (s) {
    var m = L.circleMarker([s[1], s[0]], { radius: 5, color: '#1f77b4', weight: 1, fillOpacity: 0.8 });
    m.bindTooltip(document.createTextNode(s[2]));
    m.addTo(map);
  });
  map.fitBounds(spec.bounds, { padding: [20, 20], maxZoom: 16 });
  var marker = null;
  map.on('click', function (e) {
    var lon = e.latlng.lng.toFixed(7), lat = e.latlng.lat.toFixed(7);
    document.getElementById('lon').value = lon;
    document.getElementById('lat').value = lat;
    document.getElementById('crs').value = spec.click_crs;
    if (marker) { marker.setLatLng(e.latlng); } else {
      marker = L.circleMarker(e.latlng, { radius: 8, color: '#000', weight: 2, fillColor: '#f0a500', fillOpacity: 1 }).addTo(map);
    }
    state.picked = [Number(lon), Number(lat)];
  });
  state.map = map;
  state.ready = true;
}());
