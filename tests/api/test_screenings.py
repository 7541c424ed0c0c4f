"""POST/GET /api/v1/screenings through the real app and database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spatial.crs import from_wgs84
from tests.api.conftest import KeyMaker
from tests.factories import add_school
from zoneguard.models import AuditLog

GEOD = Geod(ellps="WGS84")
CAMPUS = box(114.0, 30.5, 114.002, 30.502)


def _east_of_campus(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, metres)
    return lon, lat


def test_screening_inside_zone_is_prohibited_with_conflict_line_and_basis(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    school = add_school(session, "HB-001", CAMPUS, levels=("primary",), region="420102")
    lon, lat = _east_of_campus(120.0)
    response = client.post("/api/v1/screenings", headers=admin, json={
        "category": "internet_cafe", "location": {"lon": lon, "lat": lat}, "region": "420102"})
    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "prohibited" and body["id"] > 0
    (conflict,) = body["conflicts"]
    assert conflict["school"]["id"] == school and conflict["rule_id"] == "t.internet_cafe"
    assert abs(conflict["distance_m"] - 120.0) < 0.05 and conflict["threshold_m"] == 200
    assert conflict["basis"] == "测试机关《test basis 200》" and conflict["metric"] == "boundary"
    (line,) = body["lines"]["features"]
    assert line["geometry"]["type"] == "LineString"
    assert body["rule_set_version"].startswith("rs-")
    stored = client.get(f"/api/v1/screenings/{body['id']}", headers=admin)
    assert stored.status_code == 200 and stored.json() == body
    audit = session.scalars(select(AuditLog).where(AuditLog.entity == "screening",
                                                   AuditLog.entity_id == str(body["id"]))).one()
    assert audit.action == "screen" and audit.after is not None
    assert audit.after["verdict"] == "prohibited" and audit.actor.startswith("key:")


def test_screening_outside_every_zone_is_allowed(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    add_school(session, "HB-002", CAMPUS)
    lon, lat = _east_of_campus(260.0)
    body = client.post("/api/v1/screenings", headers=admin, json={
        "category": "internet_cafe", "location": {"lon": lon, "lat": lat}}).json()
    assert body["verdict"] == "allowed" and body["conflicts"] == []


def test_screening_in_gcj02_is_converted_before_measuring(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    add_school(session, "HB-003", CAMPUS)
    lon, lat = _east_of_campus(180.0)
    glon, glat = from_wgs84([lon], [lat], "gcj02")
    body = client.post("/api/v1/screenings", headers=admin, json={
        "category": "internet_cafe",
        "location": {"lon": float(glon[0]), "lat": float(glat[0]), "crs": "gcj02"}}).json()
    assert body["verdict"] == "prohibited"
    assert abs(body["conflicts"][0]["distance_m"] - 180.0) < 0.05


def test_unknown_category_and_crs_are_422(client: TestClient, admin: dict[str, str]) -> None:
    unknown = client.post("/api/v1/screenings", headers=admin, json={
        "category": "casino", "location": {"lon": 114, "lat": 30.5}})
    assert unknown.status_code == 422 and "casino" in unknown.json()["detail"]
    bad_crs = client.post("/api/v1/screenings", headers=admin, json={
        "category": "tobacco", "location": {"lon": 114, "lat": 30.5, "crs": "EPSG:999999"}})
    assert bad_crs.status_code == 422
    assert bad_crs.json()["type"] == "urn:zoneguard:problem:crs"


def test_bureau_screens_only_its_categories_and_region(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    point = {"lon": 112.98, "lat": 28.2}
    ok = client.post("/api/v1/screenings", headers=bureau,
                     json={"category": "tobacco", "location": point})
    assert ok.status_code == 201 and ok.json()["region"] == "4301"
    other_category = client.post("/api/v1/screenings", headers=bureau,
                                 json={"category": "lottery", "location": point})
    assert other_category.status_code == 403
    other_region = client.post("/api/v1/screenings", headers=bureau, json={
        "category": "tobacco", "location": point, "region": "440106"})
    assert other_region.status_code == 403
    viewer = client.post("/api/v1/screenings", headers=key_for("viewer"),
                         json={"category": "tobacco", "location": point})
    assert viewer.status_code == 403
    admin_record = client.post("/api/v1/screenings", headers=key_for("admin"), json={
        "category": "lottery", "location": point, "region": "440106"}).json()
    hidden = client.get(f"/api/v1/screenings/{admin_record['id']}", headers=bureau)
    assert hidden.status_code == 404


def test_a_bureau_screens_and_registers_only_in_its_own_jurisdiction(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    from zoneguard.models import ScreeningRecord

    add_school(session, "HB-OWN", CAMPUS, levels=("primary",), region="420102")
    beijing = box(116.30, 39.95, 116.302, 39.952)
    add_school(session, "BJ-OTHER", beijing, levels=("primary",), region="110108")
    bureau = key_for("bureau", categories=["internet_cafe"], region="4201")
    before = session.scalar(select(func.count()).select_from(ScreeningRecord))
    far = client.post("/api/v1/screenings", headers=bureau, json={
        "category": "internet_cafe", "location": {"lon": 116.3025, "lat": 39.951}})
    assert far.status_code == 403
    assert "北京市海淀区" in far.json()["detail"] and "BJ-OTHER" not in far.text
    assert session.scalar(select(func.count()).select_from(ScreeningRecord)) == before
    lon, lat = _east_of_campus(120.0)
    own = client.post("/api/v1/screenings", headers=bureau, json={
        "category": "internet_cafe", "location": {"lon": lon, "lat": lat}})
    assert own.status_code == 201 and own.json()["verdict"] == "prohibited"
    registered = client.post("/api/v1/premises", headers=bureau, json={
        "category": "internet_cafe", "licence_no": "WB-FAR", "name": "远方网吧",
        "region": "420102", "location": {"lon": 116.3025, "lat": 39.951}})
    assert registered.status_code == 403 and "辖区" in registered.json()["detail"]
    here = client.post("/api/v1/premises", headers=bureau, json={
        "category": "internet_cafe", "licence_no": "WB-HERE", "name": "本地网吧",
        "region": "420102", "location": {"lon": lon, "lat": lat}})
    assert here.status_code == 201
