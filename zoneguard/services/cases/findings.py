"""Finding queries (filters, scope, overdue) and their export formats (JSON, CSV, GeoJSON)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from zoneguard.domain import ACTIVE_STATES, CLOSED_STATES, RED_CARD_DAYS, FindingState, Verdict
from zoneguard.errors import NotFound, ValidationError
from zoneguard.labels import STATE_LABELS, VERDICT_LABELS, choices
from zoneguard.models import (
    Evidence,
    Finding,
    FindingEvent,
    Premises,
    School,
    SupervisionOrder,
    seen,
)
from zoneguard.services.access.keys import Scope
from zoneguard.settings import local_today

OPEN_STATES = ACTIVE_STATES
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def overdue_sql(today: date) -> ColumnElement[bool]:
    """SQL: the case's current step is past its due day (the states that have deadlines)."""
    due = [s.value for s in (*ACTIVE_STATES, FindingState.ACCEPTED)]
    return and_(Finding.step_due < today, Finding.state.in_(due))


def supervision_sql(today: date) -> ColumnElement[str | None]:
    """SQL of `workflow.supervision_level`: red (挂牌督办 or long overdue), yellow, or NULL."""
    overdue = overdue_sql(today)
    ordered = exists().where(SupervisionOrder.finding_id == Finding.id,
                             SupervisionOrder.lifted_on.is_(None))
    return case((ordered, "red"),
                (and_(overdue, Finding.step_due < today - timedelta(days=RED_CARD_DAYS)), "red"),
                (overdue, "yellow"), else_=None)


def _columns(today: date) -> list[Any]:
    overdue, level = overdue_sql(today), supervision_sql(today)
    return [
        Finding.id, Finding.kind, Finding.state, Finding.verdict,
        func.coalesce(Premises.category, Finding.problem_category).label("category"),
        School.id.label("school_id"), School.code.label("school_code"),
        School.name.label("school_name"), Finding.premises_id, Premises.licence_no,
        Premises.name.label("premises_name"), Premises.region.label("premises_region"),
        Finding.rule_id, Finding.metric, Finding.distance_m, Finding.threshold_m,
        Finding.reasons, Finding.existing, Premises.expires_on, Finding.assignee,
        Finding.deadline, Finding.step_due, overdue.label("overdue"), level.label("supervision"),
        Finding.rebound, Finding.review_on, Finding.field_distance_m, Finding.field_verdict,
        func.coalesce(Finding.field_verdict, Finding.verdict).label("effective_verdict"),
        Finding.problem_category, Finding.description, Finding.proposed_closing,
        Finding.proposed_by, Finding.rectified_by,
        Finding.first_seen, seen().label("last_seen"), Finding.resolved_at, Finding.resolution,
        Finding.rule_set_version,
        func.ST_X(func.coalesce(Premises.location, Finding.location)).label("lon"),
        func.ST_Y(func.coalesce(Premises.location, Finding.location)).label("lat"),
        func.ST_AsGeoJSON(Finding.line, 7).label("line"),
    ]


def _check(name: str, value: str | None, allowed: dict[str, str]) -> None:
    """Refuse a filter value outside `allowed` (code → name), listing codes with names."""
    if value is not None and value not in allowed:
        known = choices((code, label.split("（")[0]) for code, label in allowed.items())
        raise ValidationError(f"未知的{name}「{value}」：可选 {known}")


def _filtered(
    query: Select[Any], *, state: str | None, verdict: str | None, category: str | None,
    region: str | None, school: str | None, overdue: bool, scope: Scope | None, today: date,
    existing: bool | None = None, expiring_within_days: int | None = None,
    lookback: bool = False,
) -> Select[Any]:
    _check("办理状态", state, {**{s.value: STATE_LABELS[s.value] for s in FindingState},
                           "active": "全部未办结", "closed": "全部已办结"})
    _check("测距结论", verdict, {v.value: VERDICT_LABELS[v.value] for v in Verdict})
    if state == "active":
        query = query.where(Finding.state.in_([s.value for s in OPEN_STATES]))
    elif state == "closed":
        query = query.where(Finding.state.in_([s.value for s in CLOSED_STATES]))
    elif state is not None:
        query = query.where(Finding.state == state)
    if verdict is not None:
        query = query.where(Finding.verdict == verdict)
    if category is not None:
        query = query.where(func.coalesce(Premises.category, Finding.problem_category)
                            == category)
    if region is not None:
        query = query.where(Premises.region.startswith(region, autoescape=True))
    if school is not None:
        query = query.where(School.code == school)
    if overdue:
        query = query.where(Finding.step_due < today, Finding.state.in_(
            [s.value for s in (*ACTIVE_STATES, FindingState.ACCEPTED)]))
    if existing is not None:
        query = query.where(Finding.existing.is_(existing))
    if expiring_within_days is not None:
        # 到期不予延续: 存量 licences whose term ends within the window (or has ended).
        query = query.where(Finding.existing.is_(True),
                            Premises.expires_on <= today + timedelta(days=expiring_within_days),
                            Finding.state.in_([s.value for s in OPEN_STATES]))
    if lookback:
        query = query.where(_lookback(today))
    return scoped(query, scope)


def _lookback(today: date) -> ColumnElement[bool]:
    """回头看: 反弹 cases not closed again, and registered problems due for review (closed too)."""
    return or_(and_(Finding.rebound.is_(True),
                    Finding.state.not_in([s.value for s in CLOSED_STATES])),
               and_(Finding.kind == "report", Finding.review_on <= today))


def scoped(query: Q, scope: Scope | None) -> Q:
    """Only the findings a scope reaches; the query joins Premises (outer) and School.

    A reported problem has no premises: its category and its school's region count.
    """
    if scope is None:
        return query
    if scope.categories is not None:
        query = query.where(func.coalesce(Premises.category, Finding.problem_category)
                            .in_(sorted(scope.categories)))
    if scope.region_prefix is not None:
        query = query.where(func.coalesce(Premises.region, School.region)
                            .startswith(scope.region_prefix, autoescape=True))
    if scope.school_id is not None:
        query = query.where(Finding.school_id == scope.school_id)
    return query


def _joined(query: Select[Any]) -> Select[Any]:
    return query.outerjoin(Premises, Premises.id == Finding.premises_id) \
        .join(School, School.id == Finding.school_id)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["line"] = json.loads(data["line"]) if data["line"] else None
    data["overdue"] = bool(data["overdue"])
    data["state_name"] = STATE_LABELS[FindingState(data["state"])]
    return data


def list_findings(
    session: Session,
    *,
    state: str | None = None,
    verdict: str | None = None,
    category: str | None = None,
    region: str | None = None,
    school: str | None = None,
    overdue: bool = False,
    existing: bool | None = None,
    expiring_within_days: int | None = None,
    lookback: bool = False,
    limit: int | None = None,
    offset: int = 0,
    scope: Scope | None = None,
    today: date | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Findings matching the filters (state may be `active` or `closed`), and their total.

    `existing` keeps findings of 存量 premises (or the others); `expiring_within_days` is the
    expiry work list: open 存量 findings whose licence ends within that many days, soonest
    first. `lookback` is the 回头看 list: 反弹 cases not closed again, and hand-registered
    problems whose review day has come (closed ones too), soonest first.
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise ValidationError("分页参数 limit、offset 不能为负数")
    if expiring_within_days is not None and expiring_within_days < 0:
        raise ValidationError("到期天数（expiring_within_days）不能为负数")
    day = today or local_today()  # callers pass `today` in their settings' zone
    where = partial(_filtered, state=state, verdict=verdict, category=category, region=region,
                    school=school, overdue=overdue, scope=scope, today=day, existing=existing,
                    expiring_within_days=expiring_within_days, lookback=lookback)
    total = session.scalar(where(_joined(select(func.count()).select_from(Finding)))) or 0
    order: tuple[Any, ...] = (Finding.id,)
    if expiring_within_days is not None:
        order = (Premises.expires_on, Finding.id)
    elif lookback:
        order = (func.coalesce(Finding.review_on, Finding.step_due).asc().nulls_last(),
                 Finding.id)
    # The page's ids first: rows skipped by a deep offset are never given their columns.
    page = where(_joined(select(Finding.id).select_from(Finding))).order_by(*order) \
        .offset(offset).limit(limit)
    query = _joined(select(*_columns(day)).select_from(Finding)) \
        .where(Finding.id.in_(page.scalar_subquery()))
    rows = session.execute(query.order_by(*order)).all()
    return [_row(r) for r in rows], int(total)


def get_finding(session: Session, finding_id: int, scope: Scope | None = None,
                today: date | None = None) -> dict[str, Any]:
    """One finding with its school, premises and workflow events (oldest first)."""
    day = today or local_today()
    query = scoped(_joined(select(*_columns(day)).select_from(Finding)),
                    scope).where(Finding.id == finding_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"问题 {finding_id} 不存在" +
                       ("" if scope is None or scope.unrestricted else "或不在您的权限范围内"))
    data = _row(row)
    events = session.scalars(select(FindingEvent).where(FindingEvent.finding_id == finding_id)
                             .order_by(FindingEvent.at, FindingEvent.id)).all()
    data["events"] = [
        {"id": e.id, "at": e.at, "actor": e.actor, "from_state": e.from_state,
         "to_state": e.to_state, "comment": e.comment, "evidence": e.evidence,
         "assignee": e.assignee, "deadline": e.deadline, "scan_id": e.scan_id,
         "distance_m": e.distance_m}
        for e in events
    ]
    data["evidence"] = [
        {"id": e.id, "filename": e.filename, "media_type": e.media_type,
         "size_bytes": e.size_bytes, "sha256": e.sha256, "note": e.note,
         "uploaded_by": e.uploaded_by, "uploaded_at": e.uploaded_at}
        for e in session.scalars(select(Evidence).where(Evidence.finding_id == finding_id)
                                 .order_by(Evidence.uploaded_at, Evidence.id))
    ]
    return data
