"""The `findings` layer: findings with school and premises; geometry the measured line.

A finding without a recorded line is drawn at its premises point.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from zoneguard.errors import NotFound
from zoneguard.models import Finding, Premises, School, seen
from zoneguard.services.access.keys import Scope
from zoneguard.services.registry import BBox, Page, envelope
from zoneguard.services.registry.common import as_item, fetch_page, geojson, region_clause


def _geometry() -> ColumnElement[Any]:
    return func.coalesce(Finding.line, Premises.location)


def _select(scope: Scope, bbox: BBox | None) -> Select[*tuple[Any, ...]]:
    stmt = select(
        Finding.id, Finding.state, Finding.verdict, Premises.category, Finding.rule_id,
        Finding.metric, Finding.distance_m, Finding.threshold_m, Finding.school_id,
        School.code.label("school_code"), School.name.label("school_name"), Finding.premises_id,
        Premises.licence_no, Premises.name.label("premises_name"), Premises.region,
        Finding.assignee, Finding.deadline, Finding.first_seen, seen().label("last_seen"),
        Finding.resolved_at, geojson(_geometry()).label("geometry"),
    ).join(Premises, Premises.id == Finding.premises_id).join(
        School, School.id == Finding.school_id)
    if scope.categories is not None:
        stmt = stmt.where(Premises.category.in_(sorted(scope.categories)))
    if scope.region_prefix is not None:
        stmt = stmt.where(region_clause(Premises.region, scope.region_prefix))
    if bbox is not None:
        env = envelope(bbox)
        stmt = stmt.where(func.ST_Intersects(_geometry(), env))
    return stmt


def finding_page(session: Session, *, scope: Scope, bbox: BBox | None, limit: int,
                 offset: int) -> Page:
    """A page of findings in scope (and intersecting `bbox`), ordered by id."""
    return fetch_page(session, _select(scope, bbox), Finding.id, limit, offset)


def finding_item(session: Session, finding_id: int, *, scope: Scope) -> dict[str, Any]:
    """One finding in scope (NotFound otherwise)."""
    row = session.execute(_select(scope, None).where(Finding.id == finding_id)).mappings().first()
    if row is None:
        raise NotFound(f"问题 {finding_id} 不存在")
    return as_item(row)
