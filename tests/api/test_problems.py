"""POST /api/v1/problems, GET /api/v1/problems/categories, the 回头看 list, grid and school keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_school
from tests.oracle import distance_m, from_local
from zoneguard.services.access.keys import create_key
from zoneguard.settings import Settings, local_today

LON, LAT = 113.0, 28.2
CAMPUS = box(-100, -100, 100, 100)
FORBIDDEN = "urn:zoneguard:problem:forbidden"


def at(x: float, y: float) -> dict[str, Any]:
    p = from_local(Point(x, y), LON, LAT)
    return {"lon": p.x, "lat": p.y, "crs": "EPSG:4326"}


def key(session: Session, role: str, name: str, **scope: Any) -> tuple[dict[str, str], str]:
    """Headers of a new key and the actor the records name it by."""
    new = create_key(session, role=role, name=name, **scope)
    return {"Authorization": f"Bearer {new.token}"}, new.info.actor


def campus(session: Session) -> int:
    school = add_school(session, "PR-1", from_local(CAMPUS, LON, LAT), name="天心区实验小学",
                        region="430103")
    add_gate(session, school, at(0, -100)["lon"], at(0, -100)["lat"])
    add_school(session, "PR-2", from_local(box(2000, 0, 2200, 200), LON, LAT), region="430104")
    return school


def stall(location: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"category": "street_vendor", "location": location,
            "description": "校门口东侧有无证流动摊点售卖油炸食品", **extra}


def test_categories_are_listed_for_every_role(client: TestClient, session: Session) -> None:
    grid, _ = key(session, "grid", "网格员", region_prefix="4301")
    answer = client.get("/api/v1/problems/categories", headers=grid)
    assert answer.status_code == 200
    items = {c["code"]: c for c in answer.json()["items"]}
    assert items["street_vendor"]["name"] == "无证流动摊点"
    assert items["illegal_parking"]["lookback_days"] == 15
    assert "《" in items["water_hazard"]["citation"]


def test_a_grid_workers_stall_report_reaches_xiaohao(client: TestClient, session: Session,
                                                     settings: Settings) -> None:
    school = campus(session)
    grid, grid_actor = key(session, "grid", "网格员小王", region_prefix="4301")
    office, office_actor = key(session, "governance", "综治办王科长")
    checker, checker_actor = key(session, "governance", "综治办李验收")
    bureau, bureau_actor = key(session, "bureau", "天心区城管局",
                               categories=["street_vendor"], region_prefix="430103")
    where = at(15, -125)
    made = client.post("/api/v1/problems", json=stall(where), headers=grid)
    assert made.status_code == 201, made.text
    case = made.json()
    expected, _ = distance_m(where["lon"], where["lat"], from_local(CAMPUS, LON, LAT))
    assert case["school_id"] == school and case["kind"] == "report"
    assert case["category"] == "street_vendor" and case["state_name"] == "发现（排查）"
    assert abs(case["distance_m"] - expected) < 0.01
    assert case["review_on"] == (local_today(settings.timezone) + timedelta(days=30)).isoformat()
    assert (case["lon"], case["lat"]) == (where["lon"], where["lat"])
    assert [e["actor"] for e in case["events"]] == [grid_actor]

    def step(headers: dict[str, str], action: str, **body: Any) -> dict[str, Any]:
        answer = client.post(f"/api/v1/findings/{case['id']}/actions",
                             json={"action": action, **body}, headers=headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    step(grid, "report")
    refused = client.post(f"/api/v1/findings/{case['id']}/actions",
                          json={"action": "assign", "unit": "城管局"}, headers=grid)
    assert refused.status_code == 403
    step(office, "assign", unit="天心区城管局")
    step(bureau, "start")
    session.execute(text(
        "INSERT INTO evidence (finding_id, sha256, size_bytes, media_type, filename, uploaded_by)"
        " VALUES (:f, repeat('c', 64), 4096, 'image/jpeg', 'after.jpg', :who)"),
        {"f": case["id"], "who": bureau_actor})
    step(bureau, "submit", comment="摊点已劝离，校门口设置禁摆标识")
    step(checker, "accept")
    done = step(office, "close")
    assert done["state_name"] == "已销号"
    assert [(e["to_state"], e["actor"]) for e in done["events"]] == [
        ("found", grid_actor), ("reported", grid_actor), ("assigned", office_actor),
        ("rectifying", bureau_actor), ("to_accept", bureau_actor),
        ("accepted", checker_actor), ("closed", office_actor)]


def test_refusals_are_clear_and_change_nothing(client: TestClient, session: Session) -> None:
    school = campus(session)
    headers, _ = key(session, "school", "实验小学保卫处", school="PR-1")
    outside = client.post("/api/v1/problems", json=stall(at(0, -360)), headers=headers)
    assert outside.status_code == 403 and outside.json()["type"] == FORBIDDEN
    detail = outside.json()["detail"]
    assert "距本校“天心区实验小学”校园 260 米，不在校园周边 200 米范围内" in detail
    inside = client.post("/api/v1/problems", json=stall(at(0, -180)), headers=headers)
    assert inside.status_code == 201 and inside.json()["school_id"] == school
    grid, _ = key(session, "grid", "网格员", region_prefix="430104")
    elsewhere = client.post("/api/v1/problems", json=stall(at(0, -130)), headers=grid)
    assert elsewhere.status_code == 403 and "不在您的辖区（430104）内" in elsewhere.json()["detail"]
    unknown = client.post("/api/v1/problems", json={**stall(at(0, -130)), "category": "摊贩"},
                          headers=grid)
    assert unknown.status_code == 422
    assert "可选类别：street_vendor（无证流动摊点）" in unknown.json()["detail"]
    viewer, _ = key(session, "viewer", "只读")
    assert client.post("/api/v1/problems", json=stall(at(0, -130)),
                       headers=viewer).status_code == 403
    total = session.execute(text("SELECT count(*) FROM finding WHERE kind = 'report'")).scalar()
    assert total == 1


def test_grid_and_school_keys_read_only_their_cases(client: TestClient,
                                                    session: Session) -> None:
    campus(session)
    office, _ = key(session, "governance", "综治办")
    mine = client.post("/api/v1/problems", json=stall(at(0, -130)), headers=office).json()
    other = client.post("/api/v1/problems", json=stall(at(2100, -150), school_code="PR-2"),
                        headers=office).json()
    school, _ = key(session, "school", "实验小学", school="PR-1")
    listed = client.get("/api/v1/findings", headers=school).json()
    assert [f["id"] for f in listed["items"]] == [mine["id"]]
    assert client.get(f"/api/v1/findings/{other['id']}", headers=school).status_code == 404
    grid, _ = key(session, "grid", "网格员", region_prefix="430104")
    assert [f["id"] for f in client.get("/api/v1/findings", headers=grid).json()["items"]] \
        == [other["id"]]
    for headers in (school, grid):
        assert client.get("/api/v1/premises", headers=headers).status_code == 403
        assert client.get("/api/v1/workflow", headers=headers).status_code == 200


def test_lookback_list_through_the_api(client: TestClient, session: Session) -> None:
    campus(session)
    office, _ = key(session, "governance", "综治办")
    parking = client.post("/api/v1/problems", json={
        **stall(at(0, -130)), "category": "illegal_parking"}, headers=office).json()
    stall_case = client.post("/api/v1/problems", json=stall(at(0, -140)), headers=office).json()
    assert client.get("/api/v1/findings?lookback=true", headers=office).json()["total"] == 0
    # The review day of 违停 has come (and the case was closed meanwhile: still listed).
    session.execute(text("UPDATE finding SET review_on = review_on - 15, state = 'closed' "
                         "WHERE id = :id"), {"id": parking["id"]})
    listed = client.get("/api/v1/findings?lookback=true", headers=office).json()
    assert [f["id"] for f in listed["items"]] == [parking["id"]]
    assert stall_case["id"] not in [f["id"] for f in listed["items"]]
