"""督办 at a glance: 黄牌/红牌 counts, open 督办单 and 约谈 by district, and their lists.

A case's district is its premises' region code (or, for a hand-registered problem, its
school's), cut to the six digits of a 区县. The 黄牌/红牌 level is the one of the finding list
(`services.findings.supervision_sql`), so the two never disagree.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from zoneguard.errors import ValidationError
from zoneguard.models import Finding, Interview, Premises, School, SupervisionOrder
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.findings import scoped, supervision_sql

UNLINKED = "（未关联问题）"
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _region() -> ColumnElement[str | None]:
    return func.coalesce(func.nullif(Premises.region, ""), School.region)


def _district() -> ColumnElement[str | None]:
    return func.substr(_region(), 1, 6)


def _where(query: Q, region: str | None, scope: Scope | None) -> Q:
    if region is not None:
        if not region.isdigit() or len(region) not in (2, 4, 6):
            raise ValidationError(f"行政区划代码 {region!r} 应为 2、4 或 6 位数字")
        query = query.where(_region().startswith(region, autoescape=True))
    return scoped(query, scope)


def _cases(query: Q, link: Any, *, outer: bool = False) -> Q:
    """Join a finding (by `link`), its premises and school onto a query."""
    query = query.outerjoin(Finding, link) if outer else query.join(Finding, link)
    query = query.outerjoin(Premises, Premises.id == Finding.premises_id)
    return query.outerjoin(School, School.id == Finding.school_id) if outer \
        else query.join(School, School.id == Finding.school_id)


def _check_range(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and since > until:
        raise ValidationError(f"起始日期 {since.isoformat()} 晚于结束日期 {until.isoformat()}")


def supervision_counts(
    session: Session, *, today: date, region: str | None = None, since: date | None = None,
    until: date | None = None, scope: Scope | None = None,
) -> dict[str, Any]:
    """Counts by district: 黄牌 and 红牌 cases, open 督办单, 约谈 held in [since, until]."""
    _check_range(since, until)
    district = _district().label("district")
    levels = _where(select(district, supervision_sql(today).label("level"))
                    .select_from(Finding)
                    .outerjoin(Premises, Premises.id == Finding.premises_id)
                    .join(School, School.id == Finding.school_id), region, scope).subquery()
    cards = select(levels.c.district,
                   func.count().filter(levels.c.level == "yellow"),
                   func.count().filter(levels.c.level == "red")) \
        .group_by(levels.c.district).having(func.count().filter(levels.c.level.is_not(None)) > 0)
    orders = _where(_cases(select(district, func.count()).select_from(SupervisionOrder),
                           Finding.id == SupervisionOrder.finding_id)
                    .where(SupervisionOrder.lifted_on.is_(None)), region, scope) \
        .group_by(district)
    talks = _cases(select(district, func.count()).select_from(Interview),
                   Finding.id == Interview.finding_id, outer=True)
    if since is not None:
        talks = talks.where(Interview.held_on >= since)
    if until is not None:
        talks = talks.where(Interview.held_on <= until)
    talks = _where(talks, region, scope).group_by(district)
    table: dict[str | None, dict[str, int]] = {}

    def put(code: str | None, **counts: int) -> None:
        entry = table.setdefault(code, {"yellow": 0, "red": 0, "open_orders": 0,
                                        "interviews": 0})
        entry.update(counts)

    for code, yellow, red in session.execute(cards):
        put(code, yellow=int(yellow), red=int(red))
    for code, count in session.execute(orders):
        put(code, open_orders=int(count))
    for code, count in session.execute(talks):
        put(code, interviews=int(count))
    ordered = sorted(table.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    rows: list[dict[str, Any]] = [{"district": code or UNLINKED, **counts}
                                  for code, counts in ordered]
    total = {k: sum(c[k] for c in table.values())
             for k in ("yellow", "red", "open_orders", "interviews")}
    return {"on": today, "region": region, "since": since, "until": until,
            "total": total, "districts": rows}


def order_row(order: SupervisionOrder, today: date, **more: Any) -> dict[str, Any]:
    """A 督办单 as people and clients read it (`overdue`: active past its deadline)."""
    active = order.lifted_on is None
    return {"id": order.id, "finding_id": order.finding_id, "number": order.number,
            "office": order.office, "issued_on": order.issued_on, "deadline": order.deadline,
            "requirements": order.requirements, "issued_by": order.issued_by,
            "lifted_on": order.lifted_on, "lifted_by": order.lifted_by, "active": active,
            "overdue": bool(active and order.deadline < today), **more}


def list_orders(
    session: Session, *, today: date, active: bool | None = None, region: str | None = None,
    scope: Scope | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """督办单 (active ones, lifted ones, or all), newest first, and their total."""
    def where(query: Q) -> Q:
        query = _cases(query.select_from(SupervisionOrder),
                       Finding.id == SupervisionOrder.finding_id)
        if active is not None:
            query = query.where(SupervisionOrder.lifted_on.is_(None) if active
                                else SupervisionOrder.lifted_on.is_not(None))
        return _where(query, region, scope)

    total = int(session.scalar(where(select(func.count()))) or 0)
    rows = session.execute(where(select(SupervisionOrder, _district(), School.name,
                                        Premises.name, Finding.state))
                           .order_by(SupervisionOrder.id.desc()).limit(limit).offset(offset))
    return [order_row(order, today, district=district, school_name=school,
                       premises_name=premises, state=state)
            for order, district, school, premises, state in rows], total


def list_interviews(
    session: Session, *, since: date | None = None, until: date | None = None,
    region: str | None = None, scope: Scope | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """约谈 held in [since, until], latest first, and their total."""
    _check_range(since, until)

    def where(query: Q) -> Q:
        query = _cases(query.select_from(Interview), Finding.id == Interview.finding_id,
                       outer=True)
        if since is not None:
            query = query.where(Interview.held_on >= since)
        if until is not None:
            query = query.where(Interview.held_on <= until)
        return _where(query, region, scope)

    total = int(session.scalar(where(select(func.count()))) or 0)
    rows = session.execute(where(select(Interview, _district()))
                           .order_by(Interview.held_on.desc(), Interview.id.desc())
                           .limit(limit).offset(offset))
    return [interview_row(i, district=district or UNLINKED) for i, district in rows], total


def interview_row(interview: Interview, **more: Any) -> dict[str, Any]:
    """A 约谈 as people and clients read it."""
    return {"id": interview.id, "finding_id": interview.finding_id, "unit": interview.unit,
            "held_on": interview.held_on, "participants": interview.participants,
            "summary": interview.summary, "recorded_by": interview.recorded_by,
            "recorded_at": interview.recorded_at, **more}
