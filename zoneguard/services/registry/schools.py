"""The school registry: filtered pages, single schools, audited creates and patches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from geoalchemy2.elements import WKBElement
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from zoneguard.domain import Level
from zoneguard.errors import Conflict, NotFound, ValidationError
from zoneguard.labels import LEVEL_LABELS, choices
from zoneguard.models import School
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import UNRESTRICTED, Scope
from zoneguard.services.registry.common import (
    BBox,
    Page,
    as_item,
    envelope,
    fetch_page,
    geojson,
    like_pattern,
    region_clause,
    to_wgs84,
)

# How GEOS explains an invalid polygon (shapely.is_valid_reason), in Chinese.
_INVALID_REASONS = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "边界线在某一点与自身相接",
    "Hole lies outside shell": "内部空洞在外边界之外",
    "Holes are nested": "内部空洞相互嵌套",
    "Interior is disconnected": "面被内部空洞分割成互不相连的几块",
    "Nested shells": "多面中的一块落在另一块里面",
    "Duplicate Rings": "有重复的边界线",
    "Too few distinct points in geometry component": "边界的不同顶点太少",
    "Invalid Coordinate": "有无效的坐标",
    "Ring is not closed": "边界线首尾不闭合",
}


def _level_choices() -> str:
    return choices(LEVEL_LABELS.items())


def _invalid_reason(geom: Any) -> str:
    """Why a polygon is invalid, in Chinese, with the place GEOS points at (lon lat)."""
    reason, _, where = shapely.is_valid_reason(geom).partition("[")
    said = _INVALID_REASONS.get(reason.strip(), reason.strip())
    point = where.rstrip("]").split()
    return f"{said}（约在经度 {point[0]}、纬度 {point[1]} 处）" if len(point) == 2 else said


def _school_select() -> Select[*tuple[Any, ...]]:
    footprint = func.coalesce(School.boundary, School.location)
    return select(
        School.id, School.code, School.name, School.levels, School.enrolment, School.region,
        School.address, School.precision, School.opened_on, School.closed_on, School.source,
        School.updated_at, func.ST_X(School.location).label("location_lon"),
        func.ST_Y(School.location).label("location_lat"), geojson(footprint).label("geometry"),
    )


def school_filters(
    *, bbox: BBox | None = None, region: str | None = None, level: str | None = None,
    q: str | None = None, scope: Scope = UNRESTRICTED,
) -> list[ColumnElement[bool]]:
    """SQL conditions selecting schools by box, region prefix, level, text and scope."""
    where: list[ColumnElement[bool]] = []
    if bbox is not None:
        env = envelope(bbox)
        where.append(or_(School.boundary.op("&&")(env), School.location.op("&&")(env)))
        where.append(func.ST_Intersects(func.coalesce(School.boundary, School.location), env))
    if region:
        where.append(region_clause(School.region, region))
    if level:
        if level not in {lv.value for lv in Level}:
            raise ValidationError(f"未知的学段「{level}」：可选 {_level_choices()}")
        where.append(School.levels.contains([level]))
    if q:
        pattern = like_pattern(q)
        where.append(or_(School.name.ilike(pattern), School.code.ilike(pattern),
                         School.address.ilike(pattern)))
    if scope.region_prefix is not None:
        where.append(region_clause(School.region, scope.region_prefix))
    return where


def list_schools(
    session: Session, *, bbox: BBox | None = None, region: str | None = None,
    level: str | None = None, q: str | None = None, limit: int = 100, offset: int = 0,
    scope: Scope = UNRESTRICTED,
) -> Page:
    """A page of schools matching the filters, ordered by id, with the total."""
    where = school_filters(bbox=bbox, region=region, level=level, q=q, scope=scope)
    return fetch_page(session, _school_select().where(*where), School.id, limit, offset)


def get_school(session: Session, school_id: int, *, scope: Scope = UNRESTRICTED) -> dict[str, Any]:
    """One school by id (NotFound when missing or outside the scope)."""
    where = [School.id == school_id, *school_filters(scope=scope)]
    row = session.execute(_school_select().where(*where)).mappings().first()
    if row is None:
        raise NotFound(f"学校 {school_id} 不存在")
    return as_item(row)


def _school_shape(geometry: Mapping[str, Any], crs: str) -> tuple[Any, Any, str]:
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        raise ValidationError("学校的几何（geometry）不是有效的 GeoJSON") from None
    if geom.is_empty or not isinstance(geom, Point | Polygon | MultiPolygon):
        raise ValidationError("学校的几何须为点、面或多面（Point、Polygon、MultiPolygon）")
    geom = to_wgs84(geom, crs)
    if isinstance(geom, Point):
        return None, WKBElement(shapely.to_wkb(geom), srid=4326), "point"
    if not geom.is_valid:
        raise ValidationError(f"校园范围面无效：{_invalid_reason(geom)}；请重新勾绘")
    multi = MultiPolygon([geom]) if isinstance(geom, Polygon) else geom
    point = multi.point_on_surface()
    return (WKBElement(shapely.to_wkb(multi), srid=4326),
            WKBElement(shapely.to_wkb(point), srid=4326), "boundary")


_SCHOOL_FIELDS = {"code", "name", "levels", "enrolment", "region", "address", "opened_on",
                  "closed_on", "source"}


def _apply_school(row: School, values: Mapping[str, Any], crs: str) -> None:
    for key, value in values.items():
        if key == "geometry":
            row.boundary, row.location, row.precision = _school_shape(value, crs)
        elif key in _SCHOOL_FIELDS:
            setattr(row, key, value)
        elif key != "crs":
            raise ValidationError(f"学校没有字段「{key}」")
    if not row.levels:
        raise ValidationError(f"学校须至少有一个学段：可选 {_level_choices()}")
    for level in row.levels:
        if level not in {x.value for x in Level}:
            raise ValidationError(f"未知的学段「{level}」：可选 {_level_choices()}")
    if not (row.code or "").strip() or not (row.name or "").strip():
        raise ValidationError("学校须有代码和名称")


def create_school(session: Session, *, values: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Add a school (`geometry` GeoJSON in `crs`, default EPSG:4326); audited."""
    if session.scalar(select(School.id).where(School.code == values.get("code"))) is not None:
        raise Conflict(f"学校代码「{values.get('code')}」已存在")
    row = School(levels=[])
    _apply_school(row, values, str(values.get("crs") or "EPSG:4326"))
    session.add(row)
    session.flush()
    created = get_school(session, row.id)
    audit(session, actor=actor, action="create", entity="school", entity_id=row.id, after=created)
    return created


def patch_school(
    session: Session, school_id: int, *, changes: Mapping[str, Any], actor: str,
    scope: Scope = UNRESTRICTED,
) -> dict[str, Any]:
    """Change some fields of a school (NotFound outside the scope); audited."""
    before = get_school(session, school_id, scope=scope)
    row = session.get(School, school_id)
    assert row is not None
    if "code" in changes and changes["code"] != row.code and session.scalar(
            select(School.id).where(School.code == changes["code"])) is not None:
        raise Conflict(f"学校代码「{changes['code']}」已存在")
    _apply_school(row, changes, str(changes.get("crs") or "EPSG:4326"))
    row.updated_at = func.now()
    session.flush()
    after = get_school(session, school_id)
    audit(session, actor=actor, action="update", entity="school", entity_id=school_id,
          before=before, after=after)
    return after
