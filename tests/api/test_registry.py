"""Schools and premises: filters, pagination with totals, GeoJSON, audited writes, scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely.geometry import Point, box, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.conftest import KeyMaker
from tests.factories import add_school
from zoneguard.models import AuditLog

GEOJSON = "application/geo+json"


def _premises(client: TestClient, headers: dict[str, str], licence: str, *,
              category: str = "tobacco", region: str = "430102", lon: float = 112.98,
              lat: float = 28.2, name: str = "便利店") -> dict[str, object]:
    response = client.post("/api/v1/premises", headers=headers, json={
        "category": category, "licence_no": licence, "name": name, "region": region,
        "location": {"lon": lon, "lat": lat}})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_school_create_read_patch_is_audited(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    campus = box(114.0, 30.5, 114.002, 30.502)
    created = client.post("/api/v1/schools", headers=admin, json={
        "code": "4201020001", "name": "武汉市第一小学", "levels": ["primary"],
        "region": "420102", "geometry": mapping(campus)})
    assert created.status_code == 201, created.text
    school = created.json()
    assert school["precision"] == "boundary" and school["geometry"]["type"] == "MultiPolygon"
    assert created.headers["location"] == f"/api/v1/schools/{school['id']}"
    assert client.get(f"/api/v1/schools/{school['id']}", headers=admin).json() == school
    patched = client.patch(f"/api/v1/schools/{school['id']}", headers=admin,
                           json={"enrolment": 900, "levels": ["primary", "secondary"]})
    assert patched.status_code == 200
    assert patched.json()["enrolment"] == 900
    rows = session.scalars(select(AuditLog).where(AuditLog.entity == "school",
                                                  AuditLog.entity_id == str(school["id"]))
                           .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before is not None and rows[1].before["enrolment"] is None
    assert rows[1].after is not None and rows[1].after["enrolment"] == 900
    duplicate = client.post("/api/v1/schools", headers=admin, json={
        "code": "4201020001", "name": "again", "levels": ["primary"],
        "geometry": mapping(Point(114, 30.5))})
    assert duplicate.status_code == 409


def test_school_with_invalid_polygon_is_422(client: TestClient, admin: dict[str, str]) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[114, 30], [114.01, 30.01], [114.01, 30],
                                                  [114, 30.01], [114, 30]]]}
    response = client.post("/api/v1/schools", headers=admin, json={
        "code": "BOW", "name": "bowtie", "levels": ["primary"], "geometry": bowtie})
    assert response.status_code == 422
    assert "校园范围面无效：边界自相交（约在经度" in response.json()["detail"]


def test_school_filters_paginate_with_totals(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    for i in range(5):
        add_school(session, f"F{i}", box(114 + i * 0.01, 30.5, 114.001 + i * 0.01, 30.501),
                   levels=("kindergarten",) if i % 2 else ("primary",), region=f"42010{i}",
                   name=f"Filter school {i}")
    page = client.get("/api/v1/schools", headers=admin,
                      params={"q": "filter school", "limit": 2, "offset": 2}).json()
    assert page["total"] == 5 and [s["code"] for s in page["items"]] == ["F2", "F3"]
    kinder = client.get("/api/v1/schools", headers=admin,
                        params={"level": "kindergarten", "q": "Filter"}).json()
    assert {s["code"] for s in kinder["items"]} == {"F1", "F3"}
    boxed = client.get("/api/v1/schools", headers=admin,
                       params={"bbox": "114.015,30.49,114.035,30.51", "q": "Filter"}).json()
    assert {s["code"] for s in boxed["items"]} == {"F2", "F3"}
    region = client.get("/api/v1/schools", headers=admin, params={"region": "420104"}).json()
    assert [s["code"] for s in region["items"]] == ["F4"]
    geo = client.get("/api/v1/schools", headers={**admin, "Accept": GEOJSON},
                     params={"q": "Filter", "limit": 3})
    assert geo.headers["content-type"] == GEOJSON
    collection = geo.json()
    assert collection["type"] == "FeatureCollection" and collection["numberMatched"] == 5
    assert len(collection["features"]) == 3
    assert collection["features"][0]["properties"]["code"] == "F0"
    bad = client.get("/api/v1/schools", headers=admin, params={"bbox": "114,31,113,30"})
    assert bad.status_code == 422


def test_premises_scope_limits_reads_and_writes(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker, session: Session
) -> None:
    mine = _premises(client, admin, "T-1")
    lottery = _premises(client, admin, "L-1", category="lottery")
    guangzhou = _premises(client, admin, "T-2", region="440106", lon=113.3, lat=23.1)
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    listed = client.get("/api/v1/premises", headers=bureau).json()
    assert [p["id"] for p in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert client.get(f"/api/v1/premises/{lottery['id']}", headers=bureau).status_code == 404
    assert client.get(f"/api/v1/premises/{guangzhou['id']}", headers=bureau).status_code == 404
    outside = client.post("/api/v1/premises", headers=bureau, json={
        "category": "lottery", "licence_no": "L-9", "name": "x", "region": "430102",
        "location": {"lon": 112.9, "lat": 28.1}})
    assert outside.status_code == 403
    moved_out = client.patch(f"/api/v1/premises/{mine['id']}", headers=bureau,
                             json={"region": "440106"})
    assert moved_out.status_code == 403
    closed = client.patch(f"/api/v1/premises/{mine['id']}", headers=bureau,
                          json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    viewer = key_for("viewer", categories=["lottery"])
    assert client.patch(f"/api/v1/premises/{lottery['id']}", headers=viewer,
                        json={"status": "closed"}).status_code == 403


def test_premises_in_gcj02_are_stored_in_wgs84_and_duplicates_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/api/v1/premises", headers=admin, json={
        "category": "tobacco", "licence_no": "G-1", "name": "gcj", "region": "430102",
        "location": {"lon": 112.985, "lat": 28.195, "crs": "gcj02"},
        "entrance": {"lon": 112.9851, "lat": 28.1951}})
    assert response.status_code == 201
    stored = response.json()
    assert stored["source_crs"] == "gcj02"
    # GCJ-02 is offset by hundreds of metres in Changsha: the stored point moved.
    assert abs(stored["location"]["lon"] - 112.985) > 0.003
    assert stored["entrance"]["lon"] - stored["location"]["lon"] == \
        __import__("pytest").approx(0.0001, abs=2e-6)
    again = client.post("/api/v1/premises", headers=admin, json={
        "category": "tobacco", "licence_no": "G-1", "name": "again", "region": "430102",
        "location": {"lon": 112.98, "lat": 28.19}})
    assert again.status_code == 409
    unknown = client.post("/api/v1/premises", headers=admin, json={
        "category": "casino", "licence_no": "C-1", "name": "c",
        "location": {"lon": 112.98, "lat": 28.19}})
    assert unknown.status_code == 422
