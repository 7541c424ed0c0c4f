"""The four OGC collections (schools, zones, premises, findings): pages, items, extents."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.geojson import to_feature
from api.ogc import findings, zones
from zoneguard.errors import NotFound
from zoneguard.models import Finding, Premises, School
from zoneguard.rules import RuleSet
from zoneguard.services import registry
from zoneguard.services.access.keys import Scope
from zoneguard.services.registry import BBox

Features = tuple[list[dict[str, Any]], int]


@dataclass(frozen=True)
class Query:
    """What an items request asks for."""

    scope: Scope
    rules: RuleSet
    on: date
    bbox: BBox | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class Layer:
    """One collection: its description and how to read it."""

    id: str
    title: str
    description: str
    page: Callable[[Session, Query], Features]
    item: Callable[[Session, str, Query], dict[str, Any]]
    extent: Callable[[Session, Query], list[float] | None]


def _int_id(feature_id: str) -> int:
    if not feature_id.isdigit() or len(feature_id) > 18:
        raise NotFound(f"要素 {feature_id} 不存在")
    return int(feature_id)


def _box(row: Any) -> list[float] | None:
    if row is None or row[0] is None:
        return None
    return [float(v) for v in row]


def _extent(session: Session, geom: Any, *joins_where: Any) -> list[float] | None:
    box = func.ST_Extent(geom).label("box")
    inner = select(box)
    for clause in joins_where:
        inner = clause(inner)
    sub = inner.subquery()
    row = session.execute(select(func.ST_XMin(sub.c.box), func.ST_YMin(sub.c.box),
                                 func.ST_XMax(sub.c.box), func.ST_YMax(sub.c.box))).first()
    return _box(row)


def _school_extent(session: Session, q: Query) -> list[float] | None:
    where = registry.school_filters(scope=q.scope)
    return _extent(session, func.coalesce(School.boundary, School.location),
                   lambda s: s.select_from(School).where(*where))


def _schools(session: Session, q: Query) -> Features:
    page = registry.list_schools(session, bbox=q.bbox, limit=q.limit, offset=q.offset,
                                 scope=q.scope)
    return [to_feature(i) for i in page.items], page.total


def _premises(session: Session, q: Query) -> Features:
    page = registry.list_premises(session, bbox=q.bbox, limit=q.limit, offset=q.offset,
                                  scope=q.scope)
    return [to_feature(i) for i in page.items], page.total


def _premises_extent(session: Session, q: Query) -> list[float] | None:
    where = registry.premises_filters(scope=q.scope)
    return _extent(session, Premises.location, lambda s: s.select_from(Premises).where(*where))


def _zones(session: Session, q: Query) -> Features:
    found = zones.list_zones(session, rules=q.rules, scope=q.scope, on=q.on, bbox=q.bbox)
    return zones.zone_features(session, found[q.offset:q.offset + q.limit]), len(found)


def _zone(session: Session, feature_id: str, q: Query) -> dict[str, Any]:
    school = _int_id(feature_id.split("-", 1)[0])
    found = zones.list_zones(session, rules=q.rules, scope=q.scope, on=q.on, school_id=school)
    return zones.zone_features(session, [zones.find_zone(found, feature_id)])[0]


def _zone_extent(session: Session, q: Query) -> list[float] | None:
    box = _school_extent(session, q)
    if box is None:
        return None
    pad_y = q.rules.max_distance_m() / 111_000.0
    pad_x = pad_y / math.cos(math.radians(min(89.0, max(abs(box[1]), abs(box[3])))))
    return [max(-180, box[0] - pad_x), max(-90, box[1] - pad_y), min(180, box[2] + pad_x),
            min(90, box[3] + pad_y)]


def _findings(session: Session, q: Query) -> Features:
    page = findings.finding_page(session, scope=q.scope, bbox=q.bbox, limit=q.limit,
                                 offset=q.offset)
    return [to_feature(i) for i in page.items], page.total


def _findings_extent(session: Session, q: Query) -> list[float] | None:
    def build(s: Any) -> Any:
        s = s.select_from(Finding).join(Premises, Premises.id == Finding.premises_id)
        return s.where(*registry.premises_filters(scope=q.scope))

    return _extent(session, func.coalesce(Finding.line, Premises.location), build)


LAYERS: dict[str, Layer] = {layer.id: layer for layer in (
    Layer("schools", "Schools", "School campuses (polygons), or points where no campus is known",
          _schools,
          lambda s, fid, q: to_feature(registry.get_school(s, _int_id(fid), scope=q.scope)),
          _school_extent),
    Layer("zones", "Safety zones",
          "Each open school's campus buffered by each distinct distance of the rules protecting "
          "it (for display; decisions use exact distances)", _zones, _zone, _zone_extent),
    Layer("premises", "Premises", "Licensed premises of regulated categories", _premises,
          lambda s, fid, q: to_feature(registry.get_premises(s, _int_id(fid), scope=q.scope)),
          _premises_extent),
    Layer("findings", "Findings",
          "Premises in conflict with a school under a rule: the measured line (or the premises "
          "point)", _findings,
          lambda s, fid, q: to_feature(findings.finding_item(s, _int_id(fid), scope=q.scope)),
          _findings_extent),
)}
