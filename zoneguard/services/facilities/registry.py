"""Add, move, retire and list facilities (within a caller's region scope)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from spatial.crs import to_wgs84
from spatial.errors import CrsError
from zoneguard import regions
from zoneguard.errors import Conflict, CrsProblem, Forbidden, NotFound, ValidationError
from zoneguard.facility_kinds import derived_facility_code, facility_kinds, kind_code, kind_name
from zoneguard.models import Facility, School
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.registry.common import BBox, envelope


def _wgs84(x: float, y: float, crs: str) -> tuple[float, float]:
    """x/y in `crs` as WGS 84 lon/lat (GCJ-02 and BD-09 inverted exactly)."""
    if crs in ("EPSG:4326", "wgs84"):
        return x, y
    try:
        lon, lat = to_wgs84(x, y, crs)
    except CrsError as exc:
        raise CrsProblem(str(exc)) from None
    return float(lon), float(lat)


def _point(lon: float, lat: float) -> str:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(f"经纬度（{lon}, {lat}）超出范围：经度须在 -180 至 180、纬度须在 "
                              "-90 至 90 之间；请核对坐标和坐标系")
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def _check_region(region: str | None, scope: Scope | None) -> None:
    if region is not None and not regions.CODE.fullmatch(region):
        raise ValidationError(f"行政区划代码「{region}」格式不对：应为 2、4 或 6 位数字"
                              "（GB/T 2260），或 9、12 位数字（统计用区划代码）")
    if scope is not None and not scope.allows_region(region):
        if region is None:
            raise Forbidden("未填写行政区划：您的权限限于所辖区划，请填写设施所在的行政区划代码")
        raise Forbidden(f"区划「{regions.labelled(region)}」不在您的权限范围内")


def as_dict(session: Session, facility: Facility) -> dict[str, Any]:
    """A facility as JSON (lon/lat in WGS 84, the kind's 中文名)."""
    return as_dicts(session, [facility])[0]


def add_facility(session: Session, *, kind: str, name: str, lon: float, lat: float,
                 region: str | None = None, school_id: int | None = None,
                 code: str | None = None, direction_deg: float | None = None,
                 fov_deg: float | None = None, installed_on: date | None = None,
                 source: str | None = None, attributes: dict[str, Any] | None = None,
                 actor: str = "cli", scope: Scope | None = None,
                 crs: str = "EPSG:4326") -> Facility:
    """Register one facility at lon/lat (in `crs`; stored as WGS 84)."""
    lon, lat = _wgs84(lon, lat, crs)
    kind = kind_code(kind)
    if school_id is not None:
        school = session.get(School, school_id)
        if school is None or (scope is not None and not scope.allows_region(school.region)):
            raise NotFound(f"学校 {school_id} 不存在或不在您的权限范围内")
        region = region or school.region or None  # a school's facility lies in the school's region
    _check_region(region, scope)
    if not name.strip():
        raise ValidationError("设施名称不能为空")
    if (direction_deg is None) != (fov_deg is None):
        raise ValidationError("监控摄像头的朝向与视场角须同时给出")
    if direction_deg is not None and not facility_kinds()[kind].camera:
        raise ValidationError(f"「{kind_name(kind)}」不是摄像头类设施，不能设置朝向和视场角")
    if direction_deg is not None and not 0 <= direction_deg < 360:
        raise ValidationError("朝向须在 0 至 360 度之间（含 0，不含 360）")
    if fov_deg is not None and not 0 < fov_deg <= 360:
        raise ValidationError("视场角须大于 0 度、不超过 360 度")
    code = code or derived_facility_code(kind, name, lon, lat)
    if session.scalar(select(Facility.id).where(Facility.code == code)) is not None:
        raise Conflict(f"设施编号「{code}」已存在")
    facility = Facility(code=code, kind=kind, name=name.strip(), region=region,
                        school_id=school_id, location=_point(lon, lat),
                        direction_deg=direction_deg, fov_deg=fov_deg,
                        installed_on=installed_on, source=source,
                        attributes=attributes or {})
    session.add(facility)
    session.flush()
    audit(session, actor=actor, action="facility_add", entity="facility",
          entity_id=facility.id, after={"kind": kind, "name": name, "lon": lon, "lat": lat})
    return facility


def get_facility(session: Session, facility_id: int, scope: Scope | None = None) -> Facility:
    """One facility within the scope; raise NotFound."""
    facility = session.get(Facility, facility_id)
    if facility is None or (scope is not None and not scope.allows_region(facility.region)):
        raise NotFound(f"设施 {facility_id} 不存在或不在您的权限范围内")
    return facility


def move_facility(session: Session, facility_id: int, *, lon: float, lat: float,
                  actor: str = "cli", scope: Scope | None = None,
                  crs: str = "EPSG:4326") -> Facility:
    """Move a facility to lon/lat (in `crs`; stored as WGS 84)."""
    lon, lat = _wgs84(lon, lat, crs)
    facility = get_facility(session, facility_id, scope)
    facility.location = _point(lon, lat)
    facility.updated_at = func.now()
    session.flush()
    audit(session, actor=actor, action="facility_move", entity="facility",
          entity_id=facility.id, after={"lon": lon, "lat": lat})
    return facility


def retire_facility(session: Session, facility_id: int, *, on: date, actor: str = "cli",
                    scope: Scope | None = None) -> Facility:
    """Retire a facility (it no longer counts towards any requirement)."""
    facility = get_facility(session, facility_id, scope)
    if facility.status == "retired":
        raise Conflict(f"设施 {facility_id} 已于 {facility.retired_on} 撤除")
    facility.status, facility.retired_on = "retired", on
    session.flush()
    audit(session, actor=actor, action="facility_retire", entity="facility",
          entity_id=facility.id, after={"retired_on": on.isoformat()})
    return facility


def _filtered(*, region: str | None, kind: str | None, school_id: int | None,
              include_retired: bool, scope: Scope | None,
              bbox: BBox | None) -> Select[Facility]:
    """The facilities matching the filters and the scope (unordered, unpaged)."""
    query = select(Facility)
    if region:
        query = query.where(Facility.region.startswith(region, autoescape=True))
    if scope is not None and scope.region_prefix:
        query = query.where(Facility.region.startswith(scope.region_prefix, autoescape=True))
    if kind:
        query = query.where(Facility.kind == kind_code(kind))
    if school_id is not None:
        query = query.where(Facility.school_id == school_id)
    if not include_retired:
        query = query.where(Facility.status == "active")
    if bbox is not None:
        query = query.where(func.ST_Intersects(Facility.location, envelope(bbox)))
    return query


def list_facilities(session: Session, *, region: str | None = None, kind: str | None = None,
                    school_id: int | None = None, include_retired: bool = False,
                    scope: Scope | None = None, limit: int = 1000, offset: int = 0,
                    bbox: BBox | None = None) -> list[Facility]:
    """Facilities matching the filters (bbox in WGS 84 lon/lat), by id."""
    query = _filtered(region=region, kind=kind, school_id=school_id,
                      include_retired=include_retired, scope=scope, bbox=bbox)
    return list(session.scalars(query.order_by(Facility.id).limit(limit).offset(offset)))


def count_facilities(session: Session, *, region: str | None = None, kind: str | None = None,
                     school_id: int | None = None, include_retired: bool = False,
                     scope: Scope | None = None, bbox: BBox | None = None) -> int:
    """How many facilities match the filters of `list_facilities` (all pages)."""
    query = _filtered(region=region, kind=kind, school_id=school_id,
                      include_retired=include_retired, scope=scope, bbox=bbox)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def as_dicts(session: Session, facilities: list[Facility]) -> list[dict[str, Any]]:
    """Facilities as JSON (as `as_dict`), their coordinates read in one query."""
    if not facilities:
        return []
    points = {row.id: (row.lon, row.lat) for row in session.execute(
        select(Facility.id, func.ST_X(Facility.location).label("lon"),
               func.ST_Y(Facility.location).label("lat"))
        .where(Facility.id.in_([f.id for f in facilities])))}
    kinds = facility_kinds()
    out = []
    for f in facilities:
        lon, lat = points[f.id]
        kind = kinds.get(f.kind)
        out.append({"id": f.id, "code": f.code, "kind": f.kind,
                    "kind_name": kind.name if kind else f.kind, "name": f.name,
                    "school_id": f.school_id, "region": f.region,
                    "location": {"lon": lon, "lat": lat}, "direction_deg": f.direction_deg,
                    "fov_deg": f.fov_deg, "status": f.status, "installed_on": f.installed_on,
                    "retired_on": f.retired_on, "source": f.source, "attributes": f.attributes})
    return out
