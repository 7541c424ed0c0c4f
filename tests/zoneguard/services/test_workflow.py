"""The case workflow: transitions, their events and audit rows, refusals, scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school
from zoneguard.errors import InvalidTransition, NotFound, ValidationError
from zoneguard.services.keys import Scope
from zoneguard.services.workflow import allowed_next, get_finding, transition

LATER = date.today() + timedelta(days=30)


@pytest.fixture
def finding(session: Session) -> int:
    school = add_school(session, "WF1", Point(114.0, 30.5).buffer(0.001), region="420102")
    premises = add_premises(session, "internet_cafe", 114.002, 30.5, region="420102")
    return add_finding(session, school, premises, rule_id="t.internet_cafe",
                       line=((114.002, 30.5), (114.001, 30.5)))


def _events(session: Session, finding_id: int) -> list[tuple[str | None, str, str]]:
    return [(r.from_state, r.to_state, r.actor) for r in session.execute(text(
        "SELECT from_state, to_state, actor FROM finding_event WHERE finding_id = :f "
        "ORDER BY id"), {"f": finding_id})]


def _audits(session: Session, finding_id: int) -> list[tuple[str, str, str]]:
    return [(r.action, r.before["state"], r.after["state"]) for r in session.execute(text(
        "SELECT action, before, after FROM audit_log WHERE entity = 'finding' "
        "AND entity_id = :f ORDER BY id"), {"f": str(finding_id)})]


def test_the_closed_loop_records_an_event_and_an_audit_row_for_every_step(
        session: Session, finding: int) -> None:
    transition(session, finding, to_state="assigned", actor="zongzhi", assignee="洪山区市场监管局",
               deadline=LATER, comment="交办")
    transition(session, finding, to_state="rectifying", actor="bureau-a")
    transition(session, finding, to_state="rectified", actor="bureau-a",
               evidence="photo:2026-11-30-001.jpg", comment="moved out")
    transition(session, finding, to_state="rectifying", actor="inspector",
               comment="sign still on the door")
    transition(session, finding, to_state="rectified", actor="bureau-a", evidence="photo-2")
    done = transition(session, finding, to_state="verified_closed", actor="inspector",
                      comment="verified on site")
    assert done.state == "verified_closed" and done.resolved_at is not None
    assert done.assignee == "洪山区市场监管局" and done.deadline == LATER
    steps = [("open", "assigned"), ("assigned", "rectifying"), ("rectifying", "rectified"),
             ("rectified", "rectifying"), ("rectifying", "rectified"),
             ("rectified", "verified_closed")]
    assert [(a, b) for a, b, _ in _events(session, finding)] == steps
    assert _events(session, finding)[0][2] == "zongzhi"
    assert [(b, a) for _, b, a in _audits(session, finding)] == steps
    detail = get_finding(session, finding)
    assert [e["to_state"] for e in detail["events"]] == [b for _, b in steps]
    assert detail["events"][2]["evidence"] == "photo:2026-11-30-001.jpg"
    assert detail["events"][0]["assignee"] == "洪山区市场监管局"


def test_an_invalid_transition_is_refused_and_names_the_allowed_states(
        session: Session, finding: int) -> None:
    with pytest.raises(InvalidTransition, match="allowed next states: assigned, exempted"):
        transition(session, finding, to_state="rectified", actor="x")
    transition(session, finding, to_state="exempted", actor="x", reason="grandfathered",
               comment="licensed 2001, before the school")
    with pytest.raises(InvalidTransition, match="none"):
        transition(session, finding, to_state="assigned", actor="x", assignee="b")
    with pytest.raises(InvalidTransition):
        transition(session, finding, to_state="resolved", actor="x")
    assert _events(session, finding) == [("open", "exempted", "x")]
    assert allowed_next("rectified") == ("verified_closed", "rectifying", "exempted")


def test_an_exemption_needs_a_known_reason_and_a_comment(session: Session, finding: int) -> None:
    with pytest.raises(ValidationError, match="reason"):
        transition(session, finding, to_state="exempted", actor="x", comment="c")
    with pytest.raises(ValidationError, match="reason"):
        transition(session, finding, to_state="exempted", actor="x", reason="friendly",
                   comment="c")
    with pytest.raises(ValidationError, match="comment"):
        transition(session, finding, to_state="exempted", actor="x", reason="field_measurement")
    done = transition(session, finding, to_state="exempted", actor="x",
                      reason="field_measurement", comment="measured 212 m by tape")
    assert done.resolution == "field_measurement: measured 212 m by tape"
    comment = session.execute(text("SELECT comment FROM finding_event WHERE finding_id = :f"),
                              {"f": finding}).scalar_one()
    assert comment == "[field_measurement] measured 212 m by tape"


def test_assigning_needs_an_assignee_and_a_deadline_not_in_the_past(
        session: Session, finding: int) -> None:
    with pytest.raises(ValidationError, match="assignee"):
        transition(session, finding, to_state="assigned", actor="x")
    with pytest.raises(ValidationError, match="past"):
        transition(session, finding, to_state="assigned", actor="x", assignee="b",
                   deadline=date(2020, 1, 1))
    transition(session, finding, to_state="assigned", actor="x", assignee="b1")
    handed = transition(session, finding, to_state="assigned", actor="x", assignee="b2")
    assert handed.assignee == "b2" and len(_events(session, finding)) == 2


def test_a_finding_outside_the_callers_scope_is_not_found(
        session: Session, finding: int) -> None:
    with pytest.raises(NotFound, match="in your scope"):
        transition(session, finding, to_state="assigned", actor="x", assignee="b",
                   scope=Scope(categories=frozenset({"tobacco"})))
    with pytest.raises(NotFound):
        get_finding(session, finding, scope=Scope(region_prefix="44"))
    assert get_finding(session, finding, scope=Scope(region_prefix="42"))["id"] == finding
    assert _events(session, finding) == []
