"""Map specs and pages from real PostGIS rows: layers, counts, zones, lines, escaping, datum."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from shapely.geometry import Point, box, shape

from tests import oracle
from tests.zoneguard.maps.sample import REGION, XSS, build_city, map_settings
from zoneguard.errors import NotFound, ValidationError
from zoneguard.maps import tiles
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.city import city_map
from zoneguard.maps.page import render_page
from zoneguard.maps.permitted import permitted_map
from zoneguard.maps.school import school_map
from zoneguard.maps.screening import screening_map
from zoneguard.services.screening import screen

CAMPUS = box(114.300, 30.550, 114.302, 30.5515)


@pytest.fixture
def cfg(settings, tmp_path):
    return map_settings(settings, tmp_path)


def _layer(spec, layer_id):
    return next(ov for ov in spec["overlays"] if ov["id"] == layer_id)


def _features(spec, layer_id):
    return _layer(spec, layer_id)["data"]["features"]


def test_city_map_draws_region_premises_zones_and_findings(session, cfg):
    city = build_city(session)
    spec = city_map(session, settings=cfg, region=REGION)
    premises = {f["properties"]["id"] for f in _features(spec, "premises")}
    assert premises == {city.cafe, city.xss, city.tobacco, city.lottery}
    assert len(_features(spec, "zones:200")) == 1  # internet cafés protect the primary school only
    assert len(_features(spec, "zones:100")) == 2
    assert len(_features(spec, "findings")) == 3 and len(_features(spec, "lines")) == 3
    cafe = next(f for f in _features(spec, "premises") if f["properties"]["id"] == city.cafe)
    popup = dict(cafe["properties"]["_popup"])
    assert popup["许可证号"] == "WB-001" and popup["结论"] == "不符合距离要求"
    assert popup["距离"] == "76.7 米" and popup["规则"] == "t.internet_cafe"
    assert cafe["properties"]["_links"][0]["href"] == f"/api/v1/findings/{city.cafe_finding}"
    verdicts = {v["value"]: v["count"] for v in spec["filters"]["verdicts"]}
    assert verdicts == {"prohibited": 2, "review": 1, "none": 1}


def test_city_map_zone_is_a_geodesic_buffer_of_the_campus(session, cfg):
    build_city(session)
    spec = city_map(session, settings=cfg, region=REGION, categories=["internet_cafe"])
    zone = shape(_features(spec, "zones:200")[0]["geometry"])
    for lon, lat in zone.exterior.coords[::7]:
        measured, _ = oracle.distance_m(lon, lat, CAMPUS)
        assert measured == pytest.approx(200.0, abs=2.0)


def test_category_filter_limits_premises_and_zones(session, cfg):
    city = build_city(session)
    spec = city_map(session, settings=cfg, region=REGION, categories=["tobacco"])
    assert [f["properties"]["id"] for f in _features(spec, "premises")] == [city.tobacco]
    assert [ov["id"] for ov in spec["overlays"] if ov["id"].startswith("zones:")] == ["zones:100"]
    assert "烟草" in spec["title"]


def test_page_keeps_markup_in_names_out_of_the_html(session, cfg):
    build_city(session)
    html = render_page(city_map(session, settings=cfg, region=REGION), settings=cfg)
    assert XSS not in html and "<b>粗体</b>" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    spec = json.loads(html.split('id="zg-spec">')[1].split("</script>")[0])
    titles = [f["properties"].get("_title") for ov in spec["overlays"]
              for f in ov["data"]["features"]]
    assert XSS in titles  # the name itself survives, as data for a text node


def test_served_page_loads_libraries_from_zoneguard_and_standalone_inlines_them(session, cfg):
    build_city(session)
    spec = city_map(session, settings=cfg, region=REGION)
    served = render_page(spec, settings=cfg)
    assert '<script src="/assets/leaflet/leaflet.js">' in served
    assert '<script src="/assets/markercluster/leaflet.markercluster.js">' in served
    standalone = render_page(spec, standalone=True, settings=cfg)
    assert "<script src=" not in standalone and "<link rel=\"stylesheet\"" not in standalone
    assert "Leaflet" in standalone and "markerClusterGroup" in standalone
    assert "url(images/layers.png)" not in standalone  # inlined as a data URI
    for cdn in ("unpkg.com", "cdn.jsdelivr", "cdnjs", "googleapis"):
        assert cdn not in standalone


def test_basemaps_follow_settings_with_attribution(cfg):
    osm = basemap_for(cfg.model_copy(update={"basemap": "osm"}))
    assert "tile.openstreetmap.org" in osm.tiles[0]["url"] and "OpenStreetMap" in osm.attribution
    tdt = basemap_for(cfg.model_copy(update={"basemap": "tianditu", "tianditu_key": "k&1"}))
    assert all("tk=k%261" in t["url"] for t in tdt.tiles) and "天地图" in tdt.attribution
    assert basemap_for(cfg.model_copy(update={"basemap": "amap"})).display_crs == "gcj02"
    offline = basemap_for(cfg)
    assert offline.tiles == [] and offline.display_crs is None
    # Unset: 天地图 (the official basemap) whenever a key is configured, OSM otherwise.
    unset = cfg.model_copy(update={"basemap": None})
    assert basemap_for(unset).name == "osm"
    assert basemap_for(unset.model_copy(update={"tianditu_key": "k"})).name == "tianditu"


def test_amap_basemap_shifts_drawn_points_to_gcj02(session, cfg):
    city = build_city(session)
    plain = city_map(session, settings=cfg, region=REGION)
    shifted = city_map(session, settings=cfg.model_copy(update={"basemap": "amap"}),
                       region=REGION)

    def coords(spec):
        return next(f for f in _features(spec, "premises")
                    if f["properties"]["id"] == city.cafe)["geometry"]["coordinates"]

    assert coords(plain) == pytest.approx([114.3028, 30.5507])
    assert coords(shifted) == pytest.approx(list(oracle.wgs_to_gcj(114.3028, 30.5507)), abs=1e-6)


def test_school_map_measures_every_premises_within_reach(session, cfg):
    city = build_city(session)
    spec = school_map(session, code="4201020001", settings=cfg)
    ids = {f["properties"]["id"] for f in _features(spec, "premises")}
    assert ids == {city.cafe, city.xss, city.tobacco}  # the lottery outlet is 770 m away
    assert len(_features(spec, "gates")) == 1
    lines = _features(spec, "lines")
    assert len(lines) == 3
    for line in lines:
        (lon, lat), _ = line["geometry"]["coordinates"]
        expected, _ = oracle.distance_m(lon, lat, CAMPUS)
        assert line["properties"]["_tooltip"] == f"{expected:.1f} 米"
    tobacco = next(f for f in _features(spec, "premises") if f["properties"]["id"] == city.tobacco)
    assert dict(tobacco["properties"]["_popup"])["处置状态"] == "整改中"


def test_school_map_of_unknown_code_is_not_found(session, cfg):
    with pytest.raises(NotFound):
        school_map(session, code="nope", settings=cfg)


def test_screening_map_draws_the_stored_record(session, cfg):
    build_city(session)
    result = screen(session, category="internet_cafe", point=(114.3025, 30.5507), region=REGION,
                    on=date(2024, 1, 1), settings=cfg)
    spec = screening_map(session, screening_id=result.record_id, settings=cfg)
    lines = _features(spec, "lines")
    assert len(lines) == len(result.conflicts) == 1
    assert lines[0]["properties"]["_tooltip"] == f"{result.conflicts[0].distance_m:.1f} 米"
    assert spec["notice"].startswith("结论：不符合距离要求")
    assert len(_features(spec, "applied")) == 1 and len(_features(spec, "schools")) == 1


def test_permitted_area_leaves_out_every_zone(session, cfg):
    build_city(session)
    spec = permitted_map(session, category="internet_cafe", settings=cfg,
                         bbox=(114.290, 30.540, 114.325, 30.565))
    permitted = shape(_features(spec, "permitted")[0]["geometry"])
    blocked = shape(_features(spec, "blocked")[0]["geometry"])
    near = Point(114.301, 30.5515 + 190 / 110_900)  # 190 m north of the campus
    edge = Point(114.301, 30.5515 + 202 / 110_900)  # inside the 3 m review margin
    far = Point(114.301, 30.5515 + 260 / 110_900)
    assert blocked.contains(near) and blocked.contains(edge) and not permitted.contains(near)
    assert permitted.contains(far)
    assert permitted.contains(Point(114.321, 30.5605))  # the kindergarten does not block cafés
    assert "以选址筛查结论为准" in spec["notice"]


def test_permitted_area_needs_an_extent(session, cfg):
    with pytest.raises(ValidationError):
        permitted_map(session, category="internet_cafe", settings=cfg, region="659999")


def test_premises_tiles_hold_features_only_where_premises_are(session):
    build_city(session)
    z = 16
    x, y = _tile_of(114.3028, 30.5507, z)
    full = tiles.premises_tile(session, z=z, x=x, y=y)
    assert len(full) > 20
    assert tiles.premises_tile(session, z=z, x=x + 40, y=y) == b""
    only_none = tiles.premises_tile(session, z=z, x=x, y=y, verdicts=["none"])
    assert len(only_none) < len(full)
    with pytest.raises(ValidationError):
        tiles.premises_tile(session, z=3, x=8, y=0)


def _tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_gcj02_tile_offset_matches_the_datum_shift():
    dx, dy = tiles.display_offset(15, 26789, 13547, "gcj02")
    assert 200 < (dx ** 2 + dy ** 2) ** 0.5 < 900  # GCJ-02 moves points a few hundred metres
    assert tiles.display_offset(15, 26789, 13547, None) == (0.0, 0.0)
