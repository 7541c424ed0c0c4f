"""Map pages, vector tiles and assets over HTTP: auth, scope, escaping, tile and asset serving."""

from __future__ import annotations

import json
import math

from tests.zoneguard.maps.sample import REGION, XSS, build_city


def _spec(response):
    return json.loads(response.text.split('id="zg-spec">')[1].split("</script>")[0])


def _ids(spec, layer="premises"):
    layer = next(ov for ov in spec["overlays"] if ov["id"] == layer)
    return {f["properties"]["id"] for f in layer["data"]["features"]}


def test_city_map_page_needs_a_key_and_serves_leaflet_locally(client, admin, session):
    city = build_city(session)
    assert client.get("/maps/city").status_code == 401
    r = client.get(f"/maps/city?region={REGION}", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/assets/leaflet/leaflet.js"></script>' in r.text
    assert XSS not in r.text
    assert _ids(_spec(r)) == {city.cafe, city.xss, city.tobacco, city.lottery}


def test_bureau_key_sees_only_its_categories_and_region(client, key_for, session):
    city = build_city(session)
    bureau = key_for("bureau", categories=["tobacco"], region="4201")
    r = client.get("/maps/city", headers=bureau)
    assert r.status_code == 200
    assert _ids(_spec(r)) == {city.tobacco}
    assert client.get("/maps/city?region=44", headers=bureau).status_code == 403
    assert client.get("/maps/city?category=internet_cafe", headers=bureau).status_code == 403


def test_large_city_opened_with_a_query_key_redirects_to_a_key_free_page_with_a_cookie(
        client, key_for, session, monkeypatch):
    build_city(session)
    monkeypatch.setattr("zoneguard.maps.city.LARGE_MAP_FEATURES", 2)
    token = key_for("viewer")["Authorization"].removeprefix("Bearer ")
    first = client.get(f"/maps/city?region={REGION}&api_key={token}", follow_redirects=False,
                       headers={"Host": "evil.example"})
    assert first.status_code == 303
    assert first.headers["location"] == f"http://testserver/maps/city?region={REGION}"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("zg_page=zgp_") and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower() and token not in cookie
    r = client.get(f"/maps/city?region={REGION}")  # the cookie stands for the key
    assert r.status_code == 200 and token not in r.text and "api_key" not in r.text
    spec = _spec(r)
    tiles = next(ov for ov in spec["overlays"] if ov["id"] == "premises")
    assert tiles["type"] == "tiles" and tiles["count"] == 4
    assert tiles["url"] == "/tiles/premises/{z}/{x}/{y}.pbf?region=420102"
    assert not spec["link_query"]
    assert '/assets/vectorgrid/Leaflet.VectorGrid.bundled.min.js' in r.text
    tile = client.get("/tiles/premises/0/0/0.pbf?region=420102")
    assert tile.status_code == 200 and tile.content
    client.cookies.clear()
    assert client.get("/tiles/premises/0/0/0.pbf?region=420102").status_code == 401


def test_school_screening_and_permitted_pages(client, admin, session):
    build_city(session)
    assert client.get("/maps/schools/4201020001", headers=admin).status_code == 200
    missing = client.get("/maps/schools/nope", headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    made = client.post("/api/v1/screenings", headers=admin, json={
        "category": "internet_cafe", "location": {"lon": 114.3025, "lat": 30.5507},
        "region": REGION})
    r = client.get(f"/maps/screenings/{made.json()['id']}", headers=admin)
    assert r.status_code == 200 and _spec(r)["notice"].startswith("结论：不符合距离要求")
    ok = client.get("/maps/permitted?category=internet_cafe&bbox=114.29,30.54,114.32,30.56",
                    headers=admin)
    assert ok.status_code == 200 and "以选址筛查结论为准" in _spec(ok)["notice"]
    assert client.get("/maps/permitted?category=nope&region=4201",
                      headers=admin).status_code == 422


def _tile(lon, lat, z):
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def test_premises_tiles_are_vector_tiles_within_the_key_scope(client, admin, key_for, session):
    build_city(session)
    x, y = _tile(114.3028, 30.5507, 16)
    r = client.get(f"/tiles/premises/16/{x}/{y}.pbf", headers=admin)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert len(r.content) > 20 and b"premises" in r.content
    other = key_for("bureau", categories=["lottery"], region="4201")
    assert client.get(f"/tiles/premises/16/{x}/{y}.pbf", headers=other).content == b""
    assert client.get(f"/tiles/schools/16/{x}/{y}.pbf", headers=admin).status_code == 404
    assert client.get("/tiles/premises/3/9/1.pbf", headers=admin).status_code == 422


def test_assets_are_served_without_escaping_their_directory(client):
    r = client.get("/assets/leaflet/leaflet.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "Leaflet" in r.text[:400]
    assert client.get("/assets/leaflet/images/layers.png").headers["content-type"] == "image/png"
    assert client.get("/assets/zoneguard/zg-map.js").status_code == 200
    assert client.get("/assets/leaflet/../../../../etc/passwd").status_code == 404
    assert client.get("/assets/leaflet/%2e%2e/%2e%2e/package.json").status_code == 404
    assert client.get("/assets/nope/x.js").status_code == 404
