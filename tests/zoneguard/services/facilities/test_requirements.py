"""Required facilities: each kind met and missed, cameras facing away, findings resolved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_school
from tests.zoneguard.services.facilities.conftest import ORIGIN, campus, offset
from zoneguard.models import Finding, FindingEvent
from zoneguard.rules import RuleSet
from zoneguard.services.facilities.check import run_check
from zoneguard.services.facilities.measure import assess, covers
from zoneguard.services.facilities.registry import add_facility

ON = date(2026, 6, 1)
Place = Callable[[Session, dict[str, Any]], None]


def _school(session: Session, n: int, *, side_gate: bool = False) -> dict[str, Any]:
    lon, lat = offset(*ORIGIN, 90, 2000.0 * n)  # schools 2 km apart
    sid = add_school(session, f"S{n}", campus(lon, lat), region="420102")
    gate = offset(lon, lat, 180, 50)  # the middle of the south side
    add_gate(session, sid, *gate, kind="main")
    place = {"id": sid, "centre": (lon, lat), "gate": gate}
    if side_gate:
        place["side"] = offset(lon, lat, 90, 50)
        add_gate(session, sid, *place["side"], kind="side")
    return place


def _put(kind: str, where: str, bearing: float, metres: float, **extra: Any) -> Place:
    def put(session: Session, school: dict[str, Any]) -> None:
        lon, lat = offset(*school[where], bearing, metres)
        add_facility(session, kind=kind, name=f"{kind}（测试）", lon=lon, lat=lat,
                     region="420102", **extra)
    return put


def _both(*places: Place) -> Place:
    def put(session: Session, school: dict[str, Any]) -> None:
        for place in places:
            place(session, school)
    return put


CASES: dict[str, tuple[str, Place, Place, str]] = {
    # requirement: (id, meets, misses, expected reason of the miss)
    "warning_sign within 200 m of the campus": (
        "t.warning_sign", _put("warning_sign", "centre", 90, 50 + 190),
        _put("warning_sign", "centre", 90, 50 + 215), "学校 200 米内无警示标牌"),
    "traffic sign within 150 m of the main gate": (
        "t.traffic_sign", _put("traffic_sign", "gate", 180, 140),
        _put("traffic_sign", "gate", 180, 160), "正门 150 米内无交通标志"),
    "two guard posts at the main gate": (
        "t.guard_post",
        _both(_put("guard_post", "gate", 180, 10), _put("guard_post", "gate", 200, 12)),
        _put("guard_post", "gate", 180, 10), "正门 50 米内护学岗 1 个，少于要求的 2 个"),
    "camera covering the gate": (
        "t.camera", _both(_put("camera", "gate", 180, 20, direction_deg=0.0, fov_deg=60.0),
                          _put("camera", "side", 90, 20, direction_deg=270.0, fov_deg=60.0)),
        _put("camera", "gate", 180, 20, direction_deg=180.0, fov_deg=60.0),
        "正门 50 米内无覆盖该门的监控摄像头（1 个监控摄像头在范围内但视野未覆盖校门）"),
    "anti-ram at each gate": (
        "t.anti_ram", _both(_put("anti_ram", "gate", 180, 5), _put("anti_ram", "side", 90, 5)),
        _put("anti_ram", "gate", 180, 5), "侧门 30 米内无防冲撞设施"),
    "police room within 300 m": (
        "t.police_room", _put("police_room", "centre", 0, 50 + 280),
        _put("police_room", "centre", 0, 50 + 330), "学校 300 米内无警务室"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_requirement_met_by_one_school_and_missed_by_another(
        session: Session, rules: RuleSet, case: str) -> None:
    rule_id, meets, misses, reason = CASES[case]
    good, bad = _school(session, 1, side_gate=True), _school(session, 2, side_gate=True)
    meets(session, good)
    misses(session, bad)
    facts = {s.id: s for s in assess(session, rules=rules, on=ON,
                                     school_ids=[good["id"], bad["id"]])}
    ours = {sid: next(a for a in facts[sid].assessments if a.requirement.id == rule_id)
            for sid in facts}
    assert ours[good["id"]].met
    assert not ours[bad["id"]].met
    run_check(session, rules=rules, on=ON, region="420102")
    found = session.scalars(select(Finding).where(Finding.rule_id == rule_id)).all()
    assert [(f.school_id, f.kind, f.verdict, f.state) for f in found] == \
        [(bad["id"], "facility", "review", "found")]
    assert reason in found[0].reasons


def test_camera_bearing_is_geodesic_and_respects_the_field_of_view() -> None:
    gate = ORIGIN
    cam = offset(*gate, 180, 20)  # 20 m south of the gate: the gate is due north
    assert covers(*cam, 0.0, 60.0, *gate)
    assert covers(*cam, 25.0, 60.0, *gate)  # 25° off, half-angle 30°
    assert not covers(*cam, 35.0, 60.0, *gate)
    assert not covers(*cam, 180.0, 60.0, *gate)
    assert covers(*cam, 355.0, 20.0, *gate)  # across north
    assert not covers(*cam, None, None, *gate)  # direction unknown: not known to cover


def test_a_facility_added_later_resolves_the_finding_on_the_next_check(
        session: Session, rules: RuleSet) -> None:
    school = _school(session, 3)
    first = run_check(session, rules=rules, on=ON, region="420102")
    assert first.new == 6 and first.met == 0
    finding = session.scalars(select(Finding).where(Finding.rule_id == "t.traffic_sign")).one()
    assert finding.reasons == ["正门 150 米内无交通标志"] and finding.metric == "gate"
    _put("traffic_sign", "gate", 0, 30)(session, school)
    second = run_check(session, rules=rules, on=ON, region="420102")
    assert (second.resolved, second.open, second.new) == (1, 5, 0)
    session.refresh(finding)
    assert finding.state == "resolved"
    assert finding.resolution is not None and "已有交通标志" in finding.resolution
    events = session.scalars(select(FindingEvent.to_state).where(
        FindingEvent.finding_id == finding.id).order_by(FindingEvent.id)).all()
    assert events == ["found", "resolved"]


def test_retiring_the_facility_reopens_the_finding(session: Session, rules: RuleSet) -> None:
    school = _school(session, 4)
    _put("police_room", "centre", 0, 100)(session, school)
    run_check(session, rules=rules, on=ON, region="420102")
    assert session.scalar(select(Finding).where(Finding.rule_id == "t.police_room")) is None
    from zoneguard.services.facilities.registry import list_facilities, retire_facility

    room = list_facilities(session, kind="警务室")[0]
    retire_facility(session, room.id, on=ON)
    summary = run_check(session, rules=rules, on=ON, region="420102")
    assert summary.open == 5 and summary.new == 1
    assert session.scalars(select(Finding.reasons).where(
        Finding.rule_id == "t.police_room")).one() == ["学校 300 米内无警务室"]


def test_requirements_of_another_province_do_not_bind(session: Session, rules: RuleSet) -> None:
    sid = add_school(session, "SX", campus(113.0, 28.2), region="430103")
    facts = assess(session, rules=rules, on=ON, school_ids=[sid])
    assert facts[0].assessments == []


def test_coverage_counts_schools_meeting_each_requirement(
        session: Session, rules: RuleSet) -> None:
    from zoneguard.services.facilities.coverage import coverage

    good, bad, third = (_school(session, n) for n in (5, 6, 7))
    for school in (good, third):
        _put("traffic_sign", "gate", 180, 100)(session, school)
    result = coverage(session, rules=rules, on=ON, region="420102")
    row = next(r for r in result["districts"] if r["requirement_id"] == "t.traffic_sign")
    assert (row["schools"], row["met"], row["target"]) == (3, 2, 0.8)
    assert row["rate"] == round(2 / 3, 4) and row["reached"] is False
    missing = {s["id"]: s["missing"] for s in result["schools"]}
    assert "t.traffic_sign" not in [m["requirement_id"] for m in missing[good["id"]]]
    assert ["正门 150 米内无交通标志"] in [m["reasons"] for m in missing[bad["id"]]]


def test_a_missing_facility_case_cannot_be_accepted_until_the_facility_exists(
        session: Session, rules: RuleSet) -> None:
    from zoneguard.services.facilities.check import still_missing

    school = _school(session, 8)
    run_check(session, rules=rules, on=ON, region="420102")
    finding = session.scalars(select(Finding).where(Finding.rule_id == "t.warning_sign")).one()
    why = still_missing(session, finding, rules=rules, on=ON)
    assert why is not None and "学校 200 米内无警示标牌" in why
    _put("warning_sign", "centre", 0, 60)(session, school)
    assert still_missing(session, finding, rules=rules, on=ON) is None
