"""Hand-registered problems: where they go, who may register them, and their case loop."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_premises, add_school, write_rules
from tests.oracle import distance_m, from_local, wgs_to_gcj
from zoneguard.errors import CrsProblem, Forbidden, NotFound, ValidationError
from zoneguard.models import AuditLog, Finding, FindingEvent
from zoneguard.services.access.keys import create_key
from zoneguard.services.access.principal import Principal, key_principal
from zoneguard.services.cases.findings import get_finding, list_findings
from zoneguard.services.cases.problems import register_problem
from zoneguard.services.cases.workflow import act
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

TODAY = date(2026, 12, 3)
LON, LAT = 114.0, 30.5
CAMPUS_A = box(-100, -100, 100, 100)  # local metres around (LON, LAT)
CAMPUS_B = box(400, -100, 600, 100)


def at(x: float, y: float) -> tuple[float, float]:
    p = from_local(Point(x, y), LON, LAT)
    return p.x, p.y


@pytest.fixture
def schools(session: Session) -> dict[str, int]:
    """School A (区划 420102, gate on its south wall) and school B (420111) 300 m east."""
    a = add_school(session, "A", from_local(CAMPUS_A, LON, LAT), name="甲小学", region="420102")
    b = add_school(session, "B", from_local(CAMPUS_B, LON, LAT), name="乙中学", region="420111")
    add_gate(session, a, *at(0, -100))
    return {"A": a, "B": b}


def principal(session: Session, role: str, name: str, **scope: object) -> Principal:
    return key_principal(create_key(session, role=role, name=name, **scope).info)  # type: ignore[arg-type]


def register(session: Session, settings: Settings, who: Principal, xy: tuple[float, float],
             category: str = "street_vendor", crs: str = "EPSG:4326",
             school: str | None = None) -> Finding:
    return register_problem(session, caller=who, category=category, lon=xy[0], lat=xy[1],
                            crs=crs, description="校门口有无证流动摊点售卖烤肠",
                            school_code=school, today=TODAY, settings=settings)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Finding)) or 0)


def test_a_grid_workers_stall_at_the_gate_becomes_a_case_of_that_school(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    grid = principal(session, "grid", "网格员小王", region_prefix="420102")
    where = at(0, -130)
    found = register(session, settings, grid, where)
    expected, near = distance_m(*where, from_local(CAMPUS_A, LON, LAT))
    assert found.school_id == schools["A"] and found.kind == "report" and found.premises_id is None
    assert found.rule_id == "problem.street_vendor" and found.problem_category == "street_vendor"
    assert (found.metric, found.verdict, found.state) == ("boundary", "review", "found")
    assert found.distance_m == pytest.approx(expected, abs=0.01)
    assert found.distance_m == pytest.approx(30.0, abs=0.5)
    assert found.review_on == TODAY + timedelta(days=30)
    assert found.step_due == TODAY + timedelta(days=3)
    assert found.reported_by == grid.actor == f"key:{grid.name}:网格员小王"
    assert found.reasons[0] == "网格员登记无证流动摊点：校门口有无证流动摊点售卖烤肠"
    assert "建议责任单位：城市管理部门（城管局）" in found.reasons
    lon, lat = session.execute(select(func.ST_X(Finding.location), func.ST_Y(Finding.location))
                               .where(Finding.id == found.id)).one()
    assert (lon, lat) == pytest.approx(where, abs=1e-9)
    end = session.execute(select(func.ST_X(func.ST_EndPoint(Finding.line)),
                                 func.ST_Y(func.ST_EndPoint(Finding.line)))
                          .where(Finding.id == found.id)).one()
    assert tuple(end) == pytest.approx(near, abs=1e-6)
    events = session.scalars(select(FindingEvent).where(FindingEvent.finding_id == found.id)).all()
    assert [(e.actor, e.from_state, e.to_state) for e in events] == [(grid.actor, None, "found")]
    logged = session.scalars(select(AuditLog).where(AuditLog.entity == "finding",
                                                    AuditLog.entity_id == str(found.id))).all()
    assert [(a.actor, a.action) for a in logged] == [(grid.actor, "problem.register")]
    assert logged[0].after["school_code"] == "A"


def test_gcj02_coordinates_are_converted_before_measuring(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    where = at(0, -130)
    grid = principal(session, "grid", "网格员", region_prefix="4201")
    found = register(session, settings, grid, wgs_to_gcj(*where), crs="gcj02")
    lon, lat = session.execute(select(func.ST_X(Finding.location), func.ST_Y(Finding.location))
                               .where(Finding.id == found.id)).one()
    assert (lon, lat) == pytest.approx(where, abs=1e-7)  # ~1 cm
    assert found.distance_m == pytest.approx(30.0, abs=0.5) and found.school_id == schools["A"]
    with pytest.raises(CrsProblem):
        register(session, settings, grid, where, crs="EPSG:999999")


def test_the_nearest_school_is_chosen_unless_a_code_is_given(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    admin = principal(session, "governance", "综治办")
    between = at(320, 0)  # 220 m from A, 80 m from B
    assert register(session, settings, admin, between).school_id == schools["B"]
    chosen = register(session, settings, admin, between, school="A")
    assert chosen.school_id == schools["A"]
    assert chosen.distance_m == pytest.approx(distance_m(*between, from_local(
        CAMPUS_A, LON, LAT))[0], abs=0.01)
    with pytest.raises(NotFound, match="学校 'Z' 不存在"):
        register(session, settings, admin, between, school="Z")
    with pytest.raises(ValidationError, match="距学校 A 超过 500 米"):
        register(session, settings, admin, at(0, -700), school="A")
    with pytest.raises(ValidationError, match="500 米内没有在办学校"):
        register(session, settings, admin, at(0, -1000))


def test_a_school_registers_only_within_its_own_campus_zone(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    school = principal(session, "school", "甲小学保卫处", school="A")
    assert school.scope.school_id == schools["A"]
    inside = register(session, settings, school, at(0, -250))  # 150 m from the wall
    assert inside.school_id == schools["A"] and inside.reasons[0].startswith("学校登记")
    before = _count(session)
    with pytest.raises(Forbidden, match="距本校“甲小学”校园 250 米，不在校园周边 200 米范围内"):
        register(session, settings, school, at(0, -350))
    with pytest.raises(Forbidden, match="学校账号只能登记本校（甲小学，A）周边的问题"):
        register(session, settings, school, at(320, 0), school="B")
    # Nearer to B, but within A's zone: the case is A's own.
    assert register(session, settings, school, at(290, 0)).school_id == schools["A"]
    assert _count(session) == before + 1


def test_a_grid_worker_outside_its_region_is_refused(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    grid = principal(session, "grid", "网格员", region_prefix="420102")
    before = _count(session)
    with pytest.raises(Forbidden, match="学校“乙中学”（区划 420111）不在您的辖区（420102）内"):
        register(session, settings, grid, at(700, 0))  # only B within 500 m
    with pytest.raises(Forbidden, match="不在您的辖区"):
        register(session, settings, grid, at(320, 0), school="B")
    # Between the two: the nearest school of its own region.
    assert register(session, settings, grid, at(320, 0)).school_id == schools["A"]
    assert _count(session) == before + 1


def test_unknown_category_lists_the_known_ones_and_writes_nothing(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:  # noqa: ARG001
    grid = principal(session, "grid", "网格员", region_prefix="4201")
    before = _count(session)
    with pytest.raises(ValidationError, match="未知问题类别 'kebab'.*street_vendor（无证流动摊点）"
                                              ".*hazardous_site（危险场所/施工工地）"):
        register(session, settings, grid, at(0, -130), category="kebab")
    with pytest.raises(ValidationError, match="问题描述须有"):
        register_problem(session, caller=grid, category="illegal_parking", lon=at(0, -130)[0],
                         lat=at(0, -130)[1], crs="wgs84", description=" 违停 ", today=TODAY,
                         settings=settings)
    assert _count(session) == before


def test_viewers_and_bureaus_do_not_register(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:  # noqa: ARG001
    for who in (principal(session, "viewer", "只读"),
                principal(session, "bureau", "城管局", categories=["street_vendor"])):
        with pytest.raises(Forbidden, match="角色不能登记问题"):
            register(session, settings, who, at(0, -130))


def test_a_school_reads_only_its_own_findings(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:
    admin = principal(session, "governance", "综治办")
    mine = register(session, settings, admin, at(0, -130))
    theirs = register(session, settings, admin, at(650, 0))
    school = principal(session, "school", "甲小学", school="A")
    rows, total = list_findings(session, scope=school.scope, today=TODAY)
    assert [r["id"] for r in rows] == [mine.id] and total == 1
    with pytest.raises(NotFound):
        get_finding(session, theirs.id, scope=school.scope, today=TODAY)
    with pytest.raises(NotFound):
        act(session, theirs.id, action="report", caller=school, scope=school.scope,
            today=TODAY, settings=settings)
    reported = act(session, mine.id, action="report", caller=school, scope=school.scope,
                   today=TODAY, settings=settings)
    assert reported.state == "reported"
    with pytest.raises(Forbidden, match="“学校”角色不能交办"):
        act(session, mine.id, action="assign", caller=school, assignee="城管局",
            scope=school.scope, today=TODAY, settings=settings)


def _evidence(session: Session, finding: int, who: str) -> None:
    session.execute(text(
        "INSERT INTO evidence (finding_id, sha256, size_bytes, media_type, filename, uploaded_by)"
        " VALUES (:f, repeat('b', 64), 2048, 'image/jpeg', 'stall.jpg', :who)"),
        {"f": finding, "who": who})


def test_a_grid_workers_stall_report_reaches_xiaohao(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:  # noqa: ARG001
    grid = principal(session, "grid", "网格员小王", region_prefix="420102")
    office = principal(session, "governance", "综治办王科长")
    checker = principal(session, "governance", "综治办李验收")
    bureau = principal(session, "bureau", "城管局", categories=["street_vendor"],
                       region_prefix="4201")
    case = register(session, settings, grid, at(0, -120)).id

    def step(who: Principal, action: str, **kw: object) -> str:
        return act(session, case, action=action, caller=who, scope=who.scope, today=TODAY,
                   settings=settings, **kw).state  # type: ignore[arg-type]

    assert step(grid, "report") == "reported"
    with pytest.raises(Forbidden, match="“网格员”角色不能交办"):
        step(grid, "assign", assignee="城管局")
    assert step(office, "assign", assignee="城管局") == "assigned"
    assert step(bureau, "start") == "rectifying"
    _evidence(session, case, bureau.actor)
    assert step(bureau, "submit", comment="摊点已劝离，设置禁摆标识") == "to_accept"
    with pytest.raises(Forbidden, match="“业务主管部门”角色不能验收"):
        step(bureau, "accept")
    assert step(checker, "accept") == "accepted"
    assert step(office, "close") == "closed"
    steps = session.execute(select(FindingEvent.from_state, FindingEvent.to_state,
                                   FindingEvent.actor).where(FindingEvent.finding_id == case)
                            .order_by(FindingEvent.id)).all()
    assert [tuple(s) for s in steps] == [
        (None, "found", grid.actor), ("found", "reported", grid.actor),
        ("reported", "assigned", office.actor), ("assigned", "rectifying", bureau.actor),
        ("rectifying", "to_accept", bureau.actor), ("to_accept", "accepted", checker.actor),
        ("accepted", "closed", office.actor)]
    assert get_finding(session, case)["state_name"] == "已销号"


def test_lookback_lists_rebounds_and_problems_due_for_review(
        session: Session, settings: Settings, schools: dict[str, int]) -> None:  # noqa: ARG001
    office = principal(session, "governance", "综治办")
    parking = register(session, settings, office, at(0, -130), category="illegal_parking")
    stall = register(session, settings, office, at(0, -140))  # 回头看 after 30 days
    water = register(session, settings, office, at(0, -150), category="water_hazard")
    session.execute(text("UPDATE finding SET state = 'closed' WHERE id = :id"),
                    {"id": parking.id})
    rebound = register(session, settings, office, at(0, -160), category="water_hazard")
    session.execute(text("UPDATE finding SET rebound = true, state = 'rectifying', "
                         "step_due = :due WHERE id = :id"),
                    {"id": rebound.id, "due": TODAY + timedelta(days=20)})
    session.expire_all()

    def ids(day: date) -> list[int]:
        return [r["id"] for r in list_findings(session, lookback=True, today=day)[0]]

    # The 反弹 case counts while it is not closed; 违停 comes back after 15 days, closed or not.
    assert ids(TODAY) == [rebound.id]
    assert ids(TODAY + timedelta(days=15)) == [parking.id, rebound.id]
    assert ids(TODAY + timedelta(days=30)) == [parking.id, stall.id, rebound.id]
    assert ids(TODAY + timedelta(days=90)) == [parking.id, stall.id, water.id, rebound.id]
    session.execute(text("UPDATE finding SET review_on = NULL WHERE id = :id"),
                    {"id": rebound.id})
    # Without a review day, a 反弹 case is ordered by its step's due day.
    assert ids(TODAY + timedelta(days=30)) == [parking.id, rebound.id, stall.id]
    session.execute(text("UPDATE finding SET state = 'closed' WHERE id = :id"),
                    {"id": rebound.id})
    assert ids(TODAY + timedelta(days=15)) == [parking.id]


def test_a_rescan_leaves_registered_problems_alone_and_its_rebounds_join_the_lookback(
        session: Session, settings: Settings, schools: dict[str, int], tmp_path: Path) -> None:
    cfg = settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules")})
    office = principal(session, "governance", "综治办")
    problem = register(session, cfg, office, at(0, -130))
    cafe = add_premises(session, "internet_cafe", *at(0, -150), region="420102")
    run_scan(session, trigger="manual", settings=cfg, region="42")
    scanned = session.execute(text("SELECT id FROM finding WHERE premises_id = :p"),
                              {"p": cafe}).scalar_one()
    session.execute(text("UPDATE finding SET state = 'closed' WHERE id = :f"), {"f": scanned})
    run_scan(session, trigger="manual", settings=cfg, region="42", full=True)
    session.expire_all()
    assert session.get(Finding, problem.id).state == "found"  # type: ignore[union-attr]
    session.execute(text("UPDATE finding SET step_due = :d WHERE id = :f"),
                    {"d": TODAY + timedelta(days=40), "f": scanned})
    listed = list_findings(session, lookback=True, today=TODAY + timedelta(days=30))[0]
    assert [r["id"] for r in listed] == [problem.id, scanned]  # review day 30, step due 40
    assert listed[1]["rebound"] and listed[1]["state"] == "found"
