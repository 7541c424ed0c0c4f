"""Reading the audit log: filtered by actor, entity, action and time, newest first, paged.

Times are stored in UTC; people give and read them in the configured zone (Beijing time):
a bare date means that whole local day, a time without an offset is local time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zoneguard.errors import ValidationError
from zoneguard.models import AuditLog

MAX_LIMIT = 1000


def parse_moment(value: str | None, timezone: str, *, end: bool = False) -> datetime | None:
    """A time people typed (YYYY-MM-DD, or an ISO time, local unless it has an offset).

    A bare date is the start of that local day, or with `end` the start of the next one.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    zone = ZoneInfo(timezone)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), zone)
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValidationError(f"时间 {value!r} 的格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM"
                              "（北京时间）") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _filtered(query: Select[Any], *, actor: str | None, entity: str | None,
              entity_id: str | None, action: str | None, since: datetime | None,
              until: datetime | None) -> Select[Any]:
    if actor:
        query = query.where(AuditLog.actor.icontains(actor.strip(), autoescape=True))
    if entity:
        query = query.where(AuditLog.entity == entity.strip())
    if entity_id:
        if not entity:
            raise ValidationError("按对象编号查询时须同时指定对象类型（entity）")
        query = query.where(AuditLog.entity_id == entity_id.strip())
    if action:
        name = action.strip()
        query = query.where(or_(AuditLog.action == name,
                                AuditLog.action.startswith(name + ".", autoescape=True)))
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    return query


def read_audit(
    session: Session, *, timezone: str, actor: str | None = None, entity: str | None = None,
    entity_id: str | None = None, action: str | None = None, since: datetime | None = None,
    until: datetime | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Audit rows matching the filters, newest first, times in `timezone`; and the total.

    `actor` matches part of the name (a username, a key prefix); `action` matches exactly or
    as a family (`finding` matches `finding.assign`); `until` is exclusive.
    """
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ValidationError(f"每页条数须在 1 至 {MAX_LIMIT} 之间，偏移量不能为负")
    if since is not None and until is not None and since >= until:
        raise ValidationError("起始时间须早于结束时间")
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ValidationError("时间须带时区")
    where = partial(_filtered, actor=actor, entity=entity, entity_id=entity_id, action=action,
                    since=since, until=until)
    total = int(session.scalar(where(select(func.count()).select_from(AuditLog))) or 0)
    rows = session.scalars(where(select(AuditLog))
                           .order_by(AuditLog.id.desc())
                           .limit(limit).offset(offset)).all()
    zone = ZoneInfo(timezone)
    return [{"id": r.id, "at": r.at.astimezone(zone), "actor": r.actor, "action": r.action,
             "entity": r.entity, "entity_id": r.entity_id, "before": r.before,
             "after": r.after} for r in rows], total
