"""The cases of a period report, read once: findings in scope with their events in Beijing days.

Everything the period figures need is loaded here (one query each for cases, events, 督办
orders and 约谈) and computed in `period.py`, so that every figure of every grouping and
period comes from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

TIMEZONE = "Asia/Shanghai"
_REGION = "COALESCE(NULLIF(p.region, ''), s.region)"
_CATEGORY = "COALESCE(p.category, f.problem_category)"
_SCOPED = f"""
FROM finding f LEFT JOIN premises p ON p.id = f.premises_id JOIN school s ON s.id = f.school_id
WHERE (CAST(:region AS text) IS NULL OR starts_with({_REGION}, CAST(:region AS text)))
  AND (CAST(:categories AS text[]) IS NULL OR {_CATEGORY} = ANY(CAST(:categories AS text[])))
  AND (CAST(:school AS text) IS NULL OR s.code = CAST(:school AS text))
"""
_CASES = f"""
SELECT f.id, f.kind, {_REGION} AS region, f.assignee, s.code AS school_code,
       s.name AS school_name, {_CATEGORY} AS category, p.name AS premises_name,
       f.description, f.distance_m, f.threshold_m, f.verdict
""" + _SCOPED + " ORDER BY f.id"
_EVENTS = f"""
SELECT e.finding_id, CAST(e.at AT TIME ZONE :tz AS date) AS day, e.to_state, e.deadline,
       e.comment
FROM finding_event e
WHERE e.at < :end_at AND e.finding_id IN (SELECT f.id {_SCOPED})
ORDER BY e.finding_id, e.at, e.id
"""
_ORDERS = f"""
SELECT o.finding_id, o.issued_on AS day FROM supervision_order o
WHERE o.issued_on <= :end AND o.finding_id IN (SELECT f.id {_SCOPED})
"""
_INTERVIEWS = f"""
SELECT i.finding_id, i.unit, i.held_on AS day FROM interview i
WHERE i.held_on <= :end
  AND (i.finding_id IN (SELECT f.id {_SCOPED})
       OR (i.finding_id IS NULL AND CAST(:region AS text) IS NULL
           AND CAST(:categories AS text[]) IS NULL AND CAST(:school AS text) IS NULL))
"""


@dataclass(frozen=True)
class Event:
    """One state change of a case: its Beijing day, the state entered, deadline, comment."""

    day: date
    to_state: str
    deadline: date | None
    comment: str | None


@dataclass
class Case:
    """A finding in scope and its events up to the end of the report (oldest first)."""

    id: int
    kind: str
    region: str | None
    assignee: str | None
    school_code: str
    school_name: str
    category: str | None
    premises_name: str | None
    description: str | None
    distance_m: float | None
    threshold_m: float | None
    verdict: str
    events: list[Event] = field(default_factory=list)
    orders: list[date] = field(default_factory=list)
    interviews: list[date] = field(default_factory=list)


@dataclass(frozen=True)
class LooseInterview:
    """A 约谈 not tied to a case (counted only for callers without a scope)."""

    unit: str
    day: date


@dataclass
class CaseData:
    """Everything the figures of periods ending on or before `end` are computed from."""

    end: date
    cases: list[Case]
    loose_interviews: list[LooseInterview]


def end_instant(end: date, timezone: str = TIMEZONE) -> datetime:
    """The first instant after Beijing day `end` (an aware datetime)."""
    return datetime.combine(end + timedelta(days=1), time(0), ZoneInfo(timezone))


def load_cases(session: Session, *, end: date, region: str | None = None,
               categories: list[str] | None = None, school: str | None = None,
               timezone: str = TIMEZONE) -> CaseData:
    """The cases in scope (region prefix, categories, one school) up to Beijing day `end`."""
    params = {"region": region, "school": school,
              "categories": None if categories is None else list(categories),
              "end": end, "end_at": end_instant(end, timezone), "tz": timezone}
    cases = {r["id"]: Case(**dict(r)) for r in session.execute(text(_CASES), params).mappings()}
    for r in session.execute(text(_EVENTS), params).mappings():
        cases[r["finding_id"]].events.append(
            Event(r["day"], r["to_state"], r["deadline"], r["comment"]))
    for r in session.execute(text(_ORDERS), params).mappings():
        cases[r["finding_id"]].orders.append(r["day"])
    loose: list[LooseInterview] = []
    for r in session.execute(text(_INTERVIEWS), params).mappings():
        if r["finding_id"] is None:
            loose.append(LooseInterview(r["unit"], r["day"]))
        else:
            cases[r["finding_id"]].interviews.append(r["day"])
    return CaseData(end, list(cases.values()), loose)
