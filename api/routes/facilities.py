"""`/api/v1/facilities` and `/api/v1/coverage`: required facilities near schools."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import FacilityWriter, Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.geojson import parse_bbox
from api.schemas.common import Limit, Location, Offset, RegionCode, RowId, Text
from api.schemas.facilities import CoverageOut, FacilityOut, FacilityPage
from zoneguard.services.facilities import registry
from zoneguard.services.facilities.coverage import coverage as coverage_of
from zoneguard.services.registry import BBox
from zoneguard.settings import local_today

router = APIRouter(tags=["facilities"])


class FacilityIn(BaseModel):
    """A facility to register: kind (code or 中文名), name and place (any supported CRS)."""

    model_config = ConfigDict(extra="forbid")
    kind: Text = Field(description="护学岗, 警务室, 警示标牌, 监控摄像头… or their codes")
    name: Text
    location: Location
    region: RegionCode | None = None
    school_id: int | None = Field(None, ge=1, le=2**63 - 1,
                                  description="the school it serves (region taken from it)")
    code: Text | None = Field(None, description="设施编号 (derived when omitted)")
    direction_deg: float | None = Field(None, ge=0, lt=360, description="camera bearing")
    fov_deg: float | None = Field(None, gt=0, le=360, description="camera field of view")
    installed_on: date | None = None


class MoveIn(BaseModel):
    """Where a facility now stands."""

    model_config = ConfigDict(extra="forbid")
    location: Location


class RetireIn(BaseModel):
    """When a facility was removed (today in Beijing when omitted)."""

    model_config = ConfigDict(extra="forbid")
    retired_on: date | None = None


@router.get("/facilities", response_model=FacilityPage)
def list_facilities(
    session: SessionDep, key: Reader, bbox: Annotated[BBox | None, Depends(parse_bbox)],
    region: RegionCode | None = None,
    kind: Annotated[str | None, Query(max_length=40, description="code or 中文名")] = None,
    school_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    include_retired: bool = False, limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Facilities in the caller's region by box, region prefix, kind and school, by id.

    Positions are WGS 84 lon/lat; `total` counts every page.
    """
    filters: dict[str, Any] = {"region": region, "kind": kind, "school_id": school_id,
                               "include_retired": include_retired, "scope": key.scope,
                               "bbox": bbox}
    found = registry.list_facilities(session, limit=limit, offset=offset, **filters)
    return {"facilities": registry.as_dicts(session, found),
            "total": registry.count_facilities(session, **filters),
            "limit": limit, "offset": offset}


@router.post("/facilities", status_code=status.HTTP_201_CREATED, response_model=FacilityOut)
def add_facility(body: FacilityIn, session: SessionDep, key: FacilityWriter) -> dict[str, Any]:
    """Register a facility; a key limited to a region registers only inside it."""
    facility = registry.add_facility(
        session, kind=body.kind, name=body.name, lon=body.location.lon, lat=body.location.lat,
        crs=body.location.crs, region=body.region, school_id=body.school_id, code=body.code,
        direction_deg=body.direction_deg, fov_deg=body.fov_deg,
        installed_on=body.installed_on, source="api", actor=key.actor, scope=key.scope)
    return registry.as_dict(session, facility)


@router.get("/facilities/{facility_id}", response_model=FacilityOut)
def get_facility(facility_id: RowId, session: SessionDep, key: Reader) -> dict[str, Any]:
    """One facility (404 outside the caller's region)."""
    return registry.as_dict(session, registry.get_facility(session, facility_id, key.scope))


@router.post("/facilities/{facility_id}/move", response_model=FacilityOut)
def move_facility(facility_id: RowId, body: MoveIn, session: SessionDep,
                  key: FacilityWriter) -> dict[str, Any]:
    """Move a facility; the next requirements check measures it at its new place."""
    facility = registry.move_facility(session, facility_id, lon=body.location.lon,
                                      lat=body.location.lat, crs=body.location.crs,
                                      actor=key.actor, scope=key.scope)
    return registry.as_dict(session, facility)


@router.post("/facilities/{facility_id}/retire", response_model=FacilityOut)
def retire_facility(facility_id: RowId, body: RetireIn, session: SessionDep,
                    settings: SettingsDep, key: FacilityWriter) -> dict[str, Any]:
    """Retire a facility: it no longer counts towards any requirement."""
    facility = registry.retire_facility(
        session, facility_id, on=body.retired_on or local_today(settings.timezone),
        actor=key.actor, scope=key.scope)
    return registry.as_dict(session, facility)


@router.get("/coverage", response_model=CoverageOut)
def coverage(session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
             region: RegionCode | None = None) -> dict[str, Any]:
    """Coverage of required facilities per district and requirement, and per school.

    Per district: schools meeting each requirement, the rate and the rule file's target;
    per school: the requirements met and those missing, with the reasons.
    """
    region, _ = key.scope.narrow(region, None)
    return coverage_of(session, rules=rules, on=local_today(settings.timezone), region=region)
