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
  function pick(latlng, crs) {
    var lon = latlng.lng.toFixed(7), lat = latlng.lat.toFixed(7);
    document.getElementById('lon').value = lon;
    document.getElementById('lat').value = lat;
    document.getElementById('crs').value = crs;
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 8, color: '#000', weight: 2, fillColor: '#f0a500', fillOpacity: 1 }).addTo(map);
    }
    state.picked = [Number(lon), Number(lat)];
  }
  map.on('click', function (e) { pick(e.latlng, spec.click_crs); });

  var KINDS = { school: '学校', premises: '场所', tianditu: '天地图' };
  var box = document.getElementById('address');
  var list = document.getElementById('address-results');
  function show(places) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!places.length) {
      var none = document.createElement('li');
      none.textContent = '未找到，请换个说法或直接点选地图';
      list.appendChild(none);
    }
    places.forEach(function (p) {
      var item = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = '[' + (KINDS[p.kind] || p.kind) + '] ' + p.label + ' ';
      if (p.address) {
        var small = document.createElement('small');
        small.textContent = p.address;
        button.appendChild(small);
      }
      button.addEventListener('click', function () {
        var latlng = L.latLng(p.lat, p.lon);
        map.setView(latlng, Math.max(map.getZoom(), 17));
        pick(latlng, 'wgs84');
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    state.places = places;
  }
  function search() {
    var q = box.value.trim();
    if (!q) { return; }
    fetch('/screen/places?q=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(show);
  }
  document.getElementById('address-search').addEventListener('click', search);
  box.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { e.preventDefault(); search(); }
  });
  state.map = map;
  state.ready = true;
}());
