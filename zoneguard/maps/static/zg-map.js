/* ZoneGuard map page: builds a Leaflet map from the JSON spec in #zg-spec.
   Every data value reaches the page as a text node (textContent), never as HTML. */
(function () {
  'use strict';

  // Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8+ no longer has.
  if (L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; return L.DomEvent; };
  }

  var spec = JSON.parse(document.getElementById('zg-spec').textContent);
  var state = { map: null, layers: {}, counts: {}, ready: false, pending: 0, errors: [] };
  window.zgMap = state;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeHref(href) {
    return typeof href === 'string' && /^\/(?!\/)/.test(href) ? href : null;
  }

  function popupContent(p) {
    var box = el('div', 'zg-popup');
    if (p._title) { box.appendChild(el('h4', null, p._title)); }
    var rows = p._popup || [];
    if (rows.length) {
      var table = el('table');
      rows.forEach(function (row) {
        var tr = el('tr');
        tr.appendChild(el('th', null, row[0]));
        tr.appendChild(el('td', null, row[1] === null || row[1] === undefined ? '—' : row[1]));
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    var links = p._links || [];
    links.forEach(function (link) {
      var href = safeHref(link.href);
      if (href) {
        var a = el('a', 'zg-link', link.text);
        a.href = href + (spec.link_query || '');
        a.target = '_blank';
        a.rel = 'noopener';
        box.appendChild(a);
      }
    });
    return box;
  }

  function merge(a, b) {
    var out = {};
    [a || {}, b || {}].forEach(function (src) {
      Object.keys(src).forEach(function (k) { out[k] = src[k]; });
    });
    return out;
  }

  // Permanent labels (distances) only at street zoom: at city zoom they pile up unreadably.
  var labelled = [];
  var LABEL_MIN_ZOOM = spec.label_min_zoom || 16;

  function showLabels() {
    var visible = state.map && state.map.getZoom() >= LABEL_MIN_ZOOM;
    labelled.forEach(function (layer) {
      if (visible) { layer.openTooltip(); } else { layer.closeTooltip(); }
    });
  }

  function bind(layer, p) {
    if (p._title || p._popup) { layer.bindPopup(function () { return popupContent(p); }); }
    if (p._tooltip) {
      layer.bindTooltip(el('span', 'zg-tip', p._tooltip),
        { permanent: !!p._tooltip_permanent, direction: 'top', className: 'zg-tooltip' });
      if (p._tooltip_permanent) {
        labelled.push(layer);
        layer.on('add', function () { if (state.map) { showLabels(); } });
      }
    }
  }

  function geojsonLayer(ov) {
    var made = [];
    var layer = L.geoJSON(ov.data, {
      style: function (f) { return merge(ov.style, f.properties && f.properties._style); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, merge(merge({ radius: 6 }, ov.style), f.properties._style));
      },
      onEachFeature: function (f, lyr) { bind(lyr, f.properties || {}); lyr.feature = f; made.push(lyr); }
    });
    return { layer: layer, members: made };
  }

  function visible(p) {
    var f = state.filter;
    if (!f) { return true; }
    return f.categories[p._category] !== false && f.verdicts[p._verdict || 'none'] !== false;
  }

  function filterQuery() {
    var f = state.filter;
    var cats = Object.keys(f.categories).filter(function (k) { return f.categories[k]; });
    var verdicts = Object.keys(f.verdicts).filter(function (k) { return f.verdicts[k]; });
    return 'categories=' + encodeURIComponent(cats.join(',') || '-') +
      '&verdicts=' + encodeURIComponent(verdicts.join(',') || '-');
  }

  function tileUrl(ov) {
    var base = ov.url + (ov.url.indexOf('?') >= 0 ? '&' : '?');
    return base + (state.filter ? filterQuery() : '');
  }

  function tileStyle(p) {
    var n = p.n || 1;
    var cat = spec.labels.category_colours[p.category] || '#777777';
    var ring = spec.labels.verdict_colours[p.verdict || 'none'] || '#555555';
    return {
      radius: n > 1 ? Math.min(22, 5 + 2.2 * Math.log(n) / Math.LN2) : 5,
      fill: true, fillColor: n > 1 && p.category === 'mixed' ? '#607d8b' : cat,
      fillOpacity: 0.8, color: ring, weight: p.verdict && p.verdict !== 'none' ? 2.5 : 1
    };
  }

  function tilePopup(p) {
    var L10n = spec.labels;
    if ((p.n || 1) > 1) {
      return { _title: '此处共 ' + p.n + ' 个场所', _popup: [['提示', '放大地图查看每个场所']] };
    }
    var rows = [
      ['类别', L10n.categories[p.category] || p.category],
      ['许可证号', p.licence_no],
      ['地址', p.address],
      ['结论', L10n.verdicts[p.verdict || 'none'] || p.verdict],
      ['距离', p.distance_m === undefined || p.distance_m === null ? null : Number(p.distance_m).toFixed(1) + ' 米'],
      ['规则', p.rule_id],
      ['处置状态', L10n.states[p.state] || p.state]
    ];
    var links = p.finding_id ? [{ href: '/api/v1/findings/' + Number(p.finding_id), text: '查看问题记录 #' + Number(p.finding_id) }] : [];
    return { _title: p.name, _popup: rows, _links: links };
  }

  function tileLayer(ov) {
    var styles = {};
    styles[ov.layer] = function (p) { return tileStyle(p); };
    var layer = L.vectorGrid.protobuf(tileUrl(ov), {
      vectorTileLayerStyles: styles, interactive: true, rendererFactory: L.canvas.tile,
      maxNativeZoom: 18, maxZoom: 19, getFeatureId: function (f) { return f.properties.fid; }
    });
    layer.on('click', function (e) {
      var p = e.layer.properties || {};
      if ((p.n || 1) > 1) { state.map.setView(e.latlng, Math.min(state.map.getZoom() + 2, 18)); return; }
      L.popup().setLatLng(e.latlng).setContent(popupContent(tilePopup(p))).openOn(state.map);
    });
    state.pending += 1;
    layer.once('load', function () { state.pending -= 1; markReady(); });
    layer.on('tileerror', function () { state.errors.push('tile error'); });
    return { layer: layer, members: [] };
  }

  function markReady() {
    if (state.pending <= 0) {
      state.ready = true;
      document.body.setAttribute('data-zg-ready', '1');
    }
  }

  function refilter() {
    spec.overlays.forEach(function (ov) {
      if (!ov.filtered) { return; }
      var entry = state.layers[ov.id];
      if (ov.type === 'tiles') {
        entry.layer.setUrl(tileUrl(ov));
      } else {
        var shown = entry.members.filter(function (m) { return visible(m.feature.properties); });
        entry.layer.clearLayers();
        entry.layer.addLayers(shown);
        state.counts[ov.id + ':shown'] = shown.length;
      }
    });
  }

  function addLegend(map) {
    if (!spec.legend.length) { return; }
    var control = L.control({ position: 'bottomright' });
    control.onAdd = function () {
      var box = el('div', 'zg-legend leaflet-control');
      box.appendChild(el('h4', null, '图例'));
      spec.legend.forEach(function (item) {
        var row = el('div', 'zg-legend-row');
        var sw = el('span', 'zg-swatch zg-swatch-' + (item.shape || 'point'));
        sw.style.background = item.shape === 'line' ? 'transparent' : item.colour;
        sw.style.borderColor = item.border || item.colour;
        row.appendChild(sw);
        row.appendChild(el('span', null, item.label));
        box.appendChild(row);
      });
      return box;
    };
    control.addTo(map);
  }

  function addNotice(map) {
    if (!spec.notice) { return; }
    var control = L.control({ position: 'topright' });
    control.onAdd = function () {
      var box = el('div', 'zg-notice leaflet-control');
      box.appendChild(el('h3', null, spec.title));
      String(spec.notice).split('\n').forEach(function (line) { box.appendChild(el('p', null, line)); });
      return box;
    };
    control.addTo(map);
  }

  function build() {
    var map = L.map('map', { zoomControl: true, preferCanvas: !!spec.canvas, maxZoom: 19 });
    state.map = map;
    map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
    spec.basemap.tiles.forEach(function (t) {
      L.tileLayer(t.url, { subdomains: t.subdomains || 'abc', maxZoom: t.maxZoom || 19 }).addTo(map);
    });
    // The attribution strings are fixed texts of basemaps.py, never data.
    map.attributionControl.addAttribution(spec.basemap.attribution);
    L.control.scale({ imperial: false }).addTo(map);
    map.on('zoomend', showLabels);
    if (spec.bounds) { map.fitBounds(spec.bounds, { padding: [20, 20], maxZoom: spec.max_fit_zoom || 17 }); }
    else { map.setView([spec.centre ? spec.centre[0] : 30.6, spec.centre ? spec.centre[1] : 114.3], 12); }

    var control = L.control.layers(null, null, { collapsed: false, sortLayers: false });
    if (spec.filters) {
      state.filter = { categories: {}, verdicts: {} };
      spec.filters.categories.forEach(function (c) { state.filter.categories[c.value] = true; });
      spec.filters.verdicts.forEach(function (v) { state.filter.verdicts[v.value] = true; });
    }
    spec.overlays.forEach(function (ov) {
      var built = ov.type === 'tiles' ? tileLayer(ov) : geojsonLayer(ov);
      var layer = built.layer;
      if (ov.cluster) {
        var group = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false,
          maxClusterRadius: 50, disableClusteringAtZoom: 18 });
        group.addLayers(built.members);
        layer = group;
      }
      state.layers[ov.id] = { layer: layer, members: built.members };
      state.counts[ov.id] = ov.type === 'tiles' ? (ov.count || 0) : built.members.length;
      if (ov.show !== false) { layer.addTo(map); }
      control.addOverlay(layer, (ov.group ? ov.group + ' · ' : '') + ov.name);
    });
    if (spec.filters) {
      var toggles = new Map();
      [['categories', '类别'], ['verdicts', '结论']].forEach(function (kind) {
        spec.filters[kind[0]].forEach(function (item) {
          var dummy = L.layerGroup().addTo(map);
          toggles.set(dummy, [kind[0], item.value]);
          control.addOverlay(dummy, kind[1] + ' · ' + item.label + '（' + item.count + '）');
        });
      });
      map.on('overlayadd overlayremove', function (e) {
        var hit = toggles.get(e.layer);
        if (!hit) { return; }
        state.filter[hit[0]][hit[1]] = e.type === 'overlayadd';
        refilter();
      });
    }
    control.addTo(map);
    addLegend(map);
    addNotice(map);
    markReady();
  }

  try {
    build();
  } catch (err) {
    state.errors.push(String(err));
    throw err;
  }
})();
