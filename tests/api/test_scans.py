"""POST/GET /api/v1/scans: start a rescan (409 while one runs), read the scan records.

The client fixture runs scans synchronously in the test transaction; the background runner
is exercised against a live server in test_live_server.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.api.conftest import KeyMaker
from tests.factories import add_school
from zoneguard.services.scan.sql import LOCK_KEY

GEOD = Geod(ellps="WGS84")


def test_scan_records_new_findings_and_is_listed(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    add_school(session, "SC-1", box(114.0, 30.5, 114.002, 30.502), region="420102")
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, 150)
    session.execute(text(
        "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
        "('internet_cafe', 'SC-P', 'cafe', '420102', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
        {"x": lon, "y": lat})
    governance = key_for("governance")
    started = client.post("/api/v1/scans", headers=governance, json={"region": "42"})
    assert started.status_code == 202, started.text
    scan = started.json()
    assert scan["trigger"] == "api" and scan["region"] == "42" and scan["new"] == 1
    assert started.headers["location"] == f"/api/v1/scans/{scan['id']}"
    fetched = client.get(f"/api/v1/scans/{scan['id']}", headers=key_for("viewer")).json()
    assert fetched["status"] == "succeeded" and fetched["new"] == 1
    listed = client.get("/api/v1/scans", headers=governance).json()
    assert listed["items"][0]["id"] == scan["id"] and listed["total"] >= 1
    assert client.post("/api/v1/scans", headers=key_for("viewer"), json={}).status_code == 403
    bureau = key_for("bureau", categories=["tobacco"])
    assert client.post("/api/v1/scans", headers=bureau, json={}).status_code == 403
    assert client.get("/api/v1/scans/999999999", headers=governance).status_code == 404


def test_scan_while_another_holds_the_lock_is_409(
    client: TestClient, key_for: KeyMaker, engine: Engine
) -> None:
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        try:
            response = client.post("/api/v1/scans", headers=key_for("admin"), json={})
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            other.commit()
    assert response.status_code == 409
    assert response.json()["type"] == "urn:zoneguard:problem:scan-running"
