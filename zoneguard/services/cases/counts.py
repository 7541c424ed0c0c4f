"""Counts of findings per state under the filters of `findings.list_findings` (one query)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zoneguard.models import Finding
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.findings import _filtered, _joined


def state_counts(
    session: Session, *, today: date, scope: Scope | None = None, **filters: Any,
) -> dict[str, int]:
    """How many findings each state holds under `list_findings`' filters (one GROUP BY)."""
    options: dict[str, Any] = {"state": None, "verdict": None, "category": None, "region": None,
                               "school": None, "overdue": False, "existing": None,
                               "expiring_within_days": None, **filters}
    base = cast("Select[Any]", select(Finding.state, func.count()).select_from(Finding))
    query = _filtered(_joined(base),
                      scope=scope, today=today, **options).group_by(Finding.state)
    return {state: int(n) for state, n in session.execute(query).all()}
