"""The premises registry: filtered pages, single premises, audited creates and patches."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from spatial.measure import schools_near
from zoneguard import regions
from zoneguard.domain import PremisesStatus
from zoneguard.errors import Conflict, Forbidden, NotFound, ValidationError
from zoneguard.labels import PREMISES_STATUS_LABELS, category_label, choices
from zoneguard.models import Premises
from zoneguard.rules import check_category
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
from zoneguard.settings import local_today

NEARBY_M = 500.0  # the schools that place a premises in a jurisdiction (see screening)


def _premises_select() -> Select[*tuple[Any, ...]]:
    return select(
        Premises.id, Premises.category, Premises.licence_no, Premises.name, Premises.address,
        Premises.operator, Premises.region, Premises.status, Premises.issued_on,
        Premises.expires_on, Premises.source, Premises.source_crs, Premises.updated_at,
        func.ST_X(Premises.location).label("location_lon"),
        func.ST_Y(Premises.location).label("location_lat"),
        func.ST_X(Premises.entrance).label("entrance_lon"),
        func.ST_Y(Premises.entrance).label("entrance_lat"),
        geojson(Premises.location).label("geometry"),
    )


def premises_filters(
    *, bbox: BBox | None = None, region: str | None = None, category: str | None = None,
    status: str | None = None, q: str | None = None, scope: Scope = UNRESTRICTED,
) -> list[ColumnElement[bool]]:
    """SQL conditions selecting premises by box, region prefix, category, status, text, scope."""
    where: list[ColumnElement[bool]] = []
    if bbox is not None:
        env = envelope(bbox)
        where.append(and_(Premises.location.op("&&")(env), func.ST_Intersects(Premises.location,
                                                                              env)))
    if region:
        where.append(region_clause(Premises.region, region))
    if category:
        where.append(Premises.category == category)
    if status:
        where.append(Premises.status == status)
    if q:
        pattern = like_pattern(q)
        where.append(or_(Premises.name.ilike(pattern), Premises.licence_no.ilike(pattern),
                         Premises.address.ilike(pattern), Premises.operator.ilike(pattern)))
    if scope.categories is not None:
        where.append(Premises.category.in_(sorted(scope.categories)))
    if scope.region_prefix is not None:
        where.append(region_clause(Premises.region, scope.region_prefix))
    return where


def list_premises(
    session: Session, *, bbox: BBox | None = None, region: str | None = None,
    category: str | None = None, status: str | None = None, q: str | None = None,
    limit: int = 100, offset: int = 0, scope: Scope = UNRESTRICTED,
) -> Page:
    """A page of premises matching the filters, ordered by id, with the total."""
    where = premises_filters(bbox=bbox, region=region, category=category, status=status, q=q,
                             scope=scope)
    return fetch_page(session, _premises_select().where(*where), Premises.id, limit, offset)


def get_premises(
    session: Session, premises_id: int, *, scope: Scope = UNRESTRICTED
) -> dict[str, Any]:
    """One premises by id (NotFound when missing or outside the scope)."""
    where = [Premises.id == premises_id, *premises_filters(scope=scope)]
    row = session.execute(_premises_select().where(*where)).mappings().first()
    if row is None:
        raise NotFound(f"场所 {premises_id} 不存在")
    return as_item(row)


_PREMISES_FIELDS = {"category", "licence_no", "name", "address", "operator", "region",
                    "issued_on", "expires_on", "status", "source"}


def _point(xy: Any, crs: str) -> WKBElement:
    try:
        x, y = float(xy[0]), float(xy[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValidationError("位置须为两个数字（经度、纬度）") from None
    return WKBElement(shapely.to_wkb(to_wgs84(Point(x, y), crs)), srid=4326)


def _apply_premises(row: Premises, values: Mapping[str, Any], crs: str,
                    categories: Collection[str] | None) -> None:
    for key, value in values.items():
        if key in ("location", "entrance"):
            setattr(row, key, None if value is None else _point(value, crs))
        elif key in _PREMISES_FIELDS:
            setattr(row, key, "" if key == "region" and value is None else value)
        elif key != "crs":
            raise ValidationError(f"场所没有字段「{key}」")
    if "location" in values or "entrance" in values:
        row.source_crs = crs
    if categories is not None:
        check_category(row.category, categories)
    if row.status not in {s.value for s in PremisesStatus}:
        known = choices((s.value, PREMISES_STATUS_LABELS.get(s.value, s.value))
                        for s in PremisesStatus)
        raise ValidationError(f"未知的经营状态「{row.status}」：可选 {known}")
    if row.location is None or not (row.licence_no or "").strip() or not (row.name or "").strip():
        raise ValidationError("场所须有位置、许可证号和名称")


def _check_scope(session: Session, row: Premises, scope: Scope) -> None:
    if not scope.allows(category=row.category, region=row.region or None):
        where = regions.labelled(row.region) or "无"
        raise Forbidden(f"{category_label(row.category)}场所（区划 {where}）不在您的权限范围内")
    if scope.region_prefix is not None:  # and its place: not where only others' schools are
        from zoneguard.services.screening import check_location_in_scope

        place = to_shape(row.location)
        check_location_in_scope(schools_near(session, lon=place.x, lat=place.y,
                                             radius_m=NEARBY_M, on=local_today()), scope)


def _duplicate(session: Session, row: Premises) -> None:
    same = select(Premises.id).where(Premises.category == row.category,
                                     Premises.licence_no == row.licence_no,
                                     Premises.region == row.region, Premises.id != (row.id or 0))
    if session.scalar(same) is not None:
        where = regions.labelled(row.region) or "无"
        raise Conflict(f"区划「{where}」已有{category_label(row.category)}"
                       f"许可证号「{row.licence_no}」的场所")


def create_premises(
    session: Session, *, values: Mapping[str, Any], actor: str, scope: Scope = UNRESTRICTED,
    categories: Collection[str] | None = None,
) -> dict[str, Any]:
    """Add a premises (`location`/`entrance` as (x, y) in `crs`); audited."""
    row = Premises(region="", status=PremisesStatus.ACTIVE.value, attributes={})
    _apply_premises(row, values, str(values.get("crs") or "EPSG:4326"), categories)
    _check_scope(session, row, scope)
    _duplicate(session, row)
    session.add(row)
    session.flush()
    created = get_premises(session, row.id)
    audit(session, actor=actor, action="create", entity="premises", entity_id=row.id,
          after=created)
    return created


def patch_premises(
    session: Session, premises_id: int, *, changes: Mapping[str, Any], actor: str,
    scope: Scope = UNRESTRICTED, categories: Collection[str] | None = None,
) -> dict[str, Any]:
    """Change some fields of a premises, staying inside the scope; audited."""
    before = get_premises(session, premises_id, scope=scope)
    row = session.get(Premises, premises_id)
    assert row is not None
    _apply_premises(row, changes, str(changes.get("crs") or "EPSG:4326"), categories)
    _check_scope(session, row, scope)
    _duplicate(session, row)
    row.updated_at = func.now()
    session.flush()
    after = get_premises(session, premises_id)
    audit(session, actor=actor, action="update", entity="premises", entity_id=premises_id,
          before=before, after=after)
    return after
