"""OGC API Features: landing, conformance, collections, items with paging, bbox and scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import Point, box, shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api.conftest import KeyMaker
from tests.factories import add_school

GEOD = Geod(ellps="WGS84")


def _premises(session: Session, licence: str, category: str, region: str, lon: float,
              lat: float) -> int:
    return int(session.execute(text(
        "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
        "(:c, :l, :l, :r, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": category, "l": licence, "r": region, "x": lon, "y": lat}).scalar_one())


def test_landing_page_and_conformance(client: TestClient, key_for: KeyMaker) -> None:
    viewer = key_for("viewer")
    landing = client.get("/ogc", headers=viewer).json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"].endswith("/openapi.json")
    classes = client.get("/ogc/conformance", headers=viewer).json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in classes)
    assert any(c.endswith("/conf/geojson") for c in classes)
    assert any(c.endswith("/conf/oas30") for c in classes)
    assert client.get("/ogc/collections").status_code == 401


def test_items_page_links_are_absolute_from_the_server_and_carry_no_key(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    for i in range(5):
        _premises(session, f"P{i}", "tobacco", "430102", 112.9 + i * 0.001, 28.2)
    headers = key_for("viewer")
    token = headers["Authorization"].split()[1]
    first = client.get("/ogc/collections/premises/items",
                       params={"limit": 2, "api_key": token},
                       headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    page = first.json()
    assert page["numberMatched"] == 5 and page["numberReturned"] == 2
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert "prev" not in links and "api_key" not in first.text and token not in first.text
    assert links["next"].startswith("http://testserver/ogc/")  # the server, not the Host header
    second = client.get(links["next"].replace("http://testserver", ""), headers=headers).json()
    assert second["numberReturned"] == 2
    prev = {link["rel"]: link["href"] for link in second["links"]}["prev"]
    assert "offset=0" in prev and "api_key" not in prev
    ids = [f["id"] for f in page["features"] + second["features"]]
    assert len(set(ids)) == 4
    one = client.get(f"/ogc/collections/premises/items/{ids[0]}", params={"api_key": token})
    assert one.status_code == 200 and one.json()["geometry"]["type"] == "Point"
    boxed = client.get("/ogc/collections/premises/items",
                       params={"bbox": "112.9005,28.1,112.9025,28.3", "api_key": token}).json()
    assert boxed["numberMatched"] == 2
    assert client.get("/ogc/collections/nothing/items",
                      params={"api_key": token}).status_code == 404


def test_zones_are_geodesic_buffers_per_distinct_distance(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    campus = box(114.0, 30.5, 114.002, 30.502)
    school = add_school(session, "Z1", campus, levels=("primary",))
    body = client.get("/ogc/collections/zones/items", headers=key_for("viewer")).json()
    zones = {f["properties"]["distance_m"]: f for f in body["features"]
             if f["properties"]["school_id"] == school}
    # Test rules for a primary school: 50 (lottery), 100 (tobacco, fireworks), 200 (cafés, KTV).
    assert sorted(zones) == [50.0, 100.0, 200.0]
    assert zones[100.0]["properties"]["categories"] == "fireworks,tobacco"
    ring = shape(zones[200.0]["geometry"]).exterior.coords
    east = max(ring, key=lambda xy: xy[0])
    _, _, metres = GEOD.inv(114.002, east[1], east[0], east[1])
    assert abs(metres - 200.0) < 2.0
    item = client.get(f"/ogc/collections/zones/items/{school}-200", headers=key_for("viewer"))
    assert item.status_code == 200 and item.json()["id"] == f"{school}-200"
    far = client.get("/ogc/collections/zones/items", headers=key_for("viewer"),
                     params={"bbox": "114.0035,30.49,114.01,30.51"}).json()
    assert {f["properties"]["distance_m"] for f in far["features"]
            if f["properties"]["school_id"] == school} == {200.0}


def test_findings_layer_respects_bureau_scope(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    school = add_school(session, "FS1", Point(112.9, 28.2), region="430102")
    rows = {}
    for licence, category, region in (("T", "tobacco", "430102"), ("L", "lottery", "430102"),
                                      ("G", "tobacco", "440106")):
        premises = _premises(session, licence, category, region, 112.9005, 28.2)
        rows[licence] = session.execute(text(
            "INSERT INTO finding (school_id, premises_id, rule_id, metric, verdict, line) "
            "VALUES (:s, :p, :r, 'boundary', 'prohibited', ST_SetSRID(ST_MakeLine("
            "ST_MakePoint(112.9005, 28.2), ST_MakePoint(112.9, 28.2)), 4326)) RETURNING id"),
            {"s": school, "p": premises, "r": f"t.{category}"}).scalar_one()
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    body = client.get("/ogc/collections/findings/items", headers=bureau).json()
    assert [f["id"] for f in body["features"]] == [rows["T"]]
    assert body["features"][0]["geometry"]["type"] == "LineString"
    for hidden in ("L", "G"):
        assert client.get(f"/ogc/collections/findings/items/{rows[hidden]}",
                          headers=bureau).status_code == 404
    everything = client.get("/ogc/collections/findings/items", headers=key_for("governance"))
    assert everything.json()["numberMatched"] == 3
    collections = client.get("/ogc/collections", headers=bureau).json()["collections"]
    assert [c["id"] for c in collections] == ["schools", "zones", "premises", "findings"]
