"""`/api/v1/audit`: the audit log for admins, filtered by actor, entity, action and time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Admin
from api.deps import SessionDep, SettingsDep
from api.schemas.cases import AuditPage
from api.schemas.common import Limit, Offset
from zoneguard.services.access.audit_view import parse_moment, read_audit

router = APIRouter(prefix="/audit", tags=["audit"])
Filter = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")]
Moment = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD 或 ISO 时间，"
                                     "不带时区时按北京时间")]


@router.get("", response_model=AuditPage)
def audit_log(
    session: SessionDep, settings: SettingsDep, key: Admin,  # noqa: ARG001 - admins only
    actor: Filter = None, entity: Filter = None, entity_id: Filter = None,
    action: Filter = None, since: Moment = None, until: Moment = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Audit rows, newest first; times in Beijing time (`until`: a date counts whole).

    `actor` matches part of the name (a username, a key prefix); `action` matches exactly or
    as a family (`finding` matches `finding.assign`); `entity_id` needs `entity`.
    """
    rows, total = read_audit(
        session, timezone=settings.timezone, actor=actor, entity=entity, entity_id=entity_id,
        action=action, since=parse_moment(since, settings.timezone),
        until=parse_moment(until, settings.timezone, end=True), limit=limit, offset=offset)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}
