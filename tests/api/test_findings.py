"""GET /api/v1/findings (filters, totals, GeoJSON), one finding with events, and scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api.conftest import KeyMaker
from tests.factories import add_school


def seed_findings(session: Session) -> dict[str, int]:
    """Three findings: tobacco in 430102, lottery in 430102, tobacco in 440106."""
    changsha = add_school(session, "FD-CS", Point(112.98, 28.2), region="430102")
    guangzhou = add_school(session, "FD-GZ", Point(113.3, 23.1), region="440106")
    ids = {}
    for name, category, region, school, lon, lat in (
            ("tobacco_4301", "tobacco", "430102", changsha, 112.9805, 28.2),
            ("lottery_4301", "lottery", "430102", changsha, 112.9806, 28.2),
            ("tobacco_4401", "tobacco", "440106", guangzhou, 113.3005, 23.1)):
        premises = session.execute(text(
            "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
            "(:c, :n, :n, :r, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
            {"c": category, "n": name, "r": region, "x": lon, "y": lat}).scalar_one()
        ids[name] = session.execute(text(
            "INSERT INTO finding (school_id, premises_id, rule_id, metric, verdict, distance_m,"
            " threshold_m, line) VALUES (:s, :p, :rule, 'boundary', 'prohibited', 48.9, 100, "
            "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x, :y), ST_MakePoint(:x - 0.0005, :y)), 4326))"
            " RETURNING id"),
            {"s": school, "p": premises, "rule": f"t.{category}", "x": lon, "y": lat}
        ).scalar_one()
    return ids


def test_findings_list_filters_and_totals(client: TestClient, session: Session,
                                          key_for: KeyMaker) -> None:
    ids = seed_findings(session)
    governance = key_for("governance")
    page = client.get("/api/v1/findings", headers=governance,
                      params={"category": "tobacco", "limit": 1}).json()
    assert page["total"] == 2 and [f["id"] for f in page["items"]] == [ids["tobacco_4301"]]
    assert page["items"][0]["school_code"] == "FD-CS"
    region = client.get("/api/v1/findings", headers=governance, params={"region": "44"}).json()
    assert [f["id"] for f in region["items"]] == [ids["tobacco_4401"]]
    active = client.get("/api/v1/findings", headers=governance, params={"state": "active"})
    assert active.json()["total"] == 3
    geo = client.get("/api/v1/findings", headers={**governance, "Accept": "application/geo+json"})
    collection = geo.json()
    assert geo.headers["content-type"] == "application/geo+json"
    assert collection["numberMatched"] == 3
    assert {f["geometry"]["type"] for f in collection["features"]} == {"LineString"}
    assert client.get("/api/v1/findings", headers=governance,
                      params={"state": "lost"}).status_code == 422


def test_bureau_cannot_read_other_categories_or_regions(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    ids = seed_findings(session)
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    listed = client.get("/api/v1/findings", headers=bureau).json()
    assert [f["id"] for f in listed["items"]] == [ids["tobacco_4301"]] and listed["total"] == 1
    own = client.get(f"/api/v1/findings/{ids['tobacco_4301']}", headers=bureau)
    assert own.status_code == 200 and own.json()["events"] == []
    for other in ("lottery_4301", "tobacco_4401"):
        response = client.get(f"/api/v1/findings/{ids[other]}", headers=bureau)
        assert response.status_code == 404
        assert response.json()["type"] == "urn:zoneguard:problem:not-found"


def test_actions_record_events_and_refuse_invalid_moves(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    ids = seed_findings(session)
    governance = key_for("governance", name="综治办")
    url = f"/api/v1/findings/{ids['tobacco_4301']}/actions"
    reported = client.post(url, headers=governance, json={"action": "report"})
    assert reported.status_code == 200, reported.text
    assigned = client.post(url, headers=governance, json={
        "action": "assign", "unit": "烟草专卖局", "deadline": "2099-01-31", "comment": "交办"})
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert body["state"] == "assigned" and body["assignee"] == "烟草专卖局"
    assert body["state_name"] == "已交办"
    event = body["events"][-1]
    assert event["from_state"] == "reported" and event["to_state"] == "assigned"
    assert event["actor"].endswith("综治办")
    invalid = client.post(url, headers=governance, json={"action": "close"})
    assert invalid.status_code == 409
    problem = invalid.json()
    assert problem["type"] == "urn:zoneguard:problem:invalid-transition"
    assert "start" in problem["allowed"] and "不能销号" in problem["detail"]
    no_reason = client.post(url, headers=governance,
                            json={"action": "propose", "comment": "field check"})
    assert no_reason.status_code == 422
    assert client.post(url, headers=key_for("viewer"),
                       json={"action": "start"}).status_code == 403
    described = client.get("/api/v1/workflow", headers=governance).json()
    assert described["loop"] == ["排查", "上报", "交办", "整改", "验收", "销号"]
    assert {"code": "to_accept", "name": "待验收"} in described["states"]


def test_bureau_cannot_act_on_other_categories_or_regions(
    client: TestClient, session: Session, key_for: KeyMaker
) -> None:
    ids = seed_findings(session)
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    for other in ("lottery_4301", "tobacco_4401"):
        response = client.post(f"/api/v1/findings/{ids[other]}/actions", headers=bureau,
                               json={"action": "report"})
        assert response.status_code == 404
        state = session.execute(text("SELECT state FROM finding WHERE id = :id"),
                                {"id": ids[other]}).scalar_one()
        assert state == "found"
    own = client.post(f"/api/v1/findings/{ids['tobacco_4301']}/actions", headers=bureau,
                      json={"action": "report"})
    assert own.status_code == 200 and own.json()["state"] == "reported"


def test_expiry_work_list_over_http(client: TestClient, session: Session,
                                    key_for: KeyMaker) -> None:
    ids = seed_findings(session)
    session.execute(text("UPDATE finding SET existing = true WHERE id = :id"),
                    {"id": ids["tobacco_4301"]})
    session.execute(text(
        "UPDATE premises SET expires_on = current_date + 10 WHERE id = "
        "(SELECT premises_id FROM finding WHERE id = :id)"), {"id": ids["tobacco_4301"]})
    headers = key_for("governance")
    r = client.get("/api/v1/findings", params={"expiring_within_days": 90}, headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert [f["id"] for f in body["items"]] == [ids["tobacco_4301"]]
    assert body["items"][0]["existing"] is True and body["items"][0]["expires_on"]
    stock = client.get("/api/v1/findings", params={"existing": "false"}, headers=headers).json()
    assert ids["tobacco_4301"] not in {f["id"] for f in stock["items"]}
    bad = client.get("/api/v1/findings", params={"expiring_within_days": -1}, headers=headers)
    assert bad.status_code == 422
