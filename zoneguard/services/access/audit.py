"""The audit log: every write records who did what to which entity, before and after."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


# One constant statement: compiled once, so writing an audit row costs one round trip only.
_INSERT = text(
    "INSERT INTO audit_log (actor, action, entity, entity_id, before, after) VALUES "
    "(:actor, :action, :entity, :entity_id, CAST(:before AS jsonb), CAST(:after AS jsonb))"
)


def _dumps(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=_plain, ensure_ascii=False)


def jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return a JSON-ready copy of a mapping (dates as ISO text, sets as lists)."""
    if value is None:
        return None
    result: dict[str, Any] = json.loads(json.dumps(value, default=_plain, ensure_ascii=False))
    return result


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit-log row in the session's transaction (committed with the change)."""
    session.execute(_INSERT, {
        "actor": actor, "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": _dumps(before), "after": _dumps(after),
    })
