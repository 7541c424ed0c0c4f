"""Response models of `/api/v1/facilities` and `/api/v1/coverage` (for the OpenAPI document)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import LonLat


class FacilityOut(BaseModel):
    """A registered facility; `location` in WGS 84 lon/lat."""

    model_config = ConfigDict(extra="allow")
    id: int
    code: str = Field(description="设施编号")
    kind: str = Field(description="code of data/facility_kinds.yaml, e.g. warning_sign")
    kind_name: str = Field(description="the kind's 中文名, e.g. 警示标牌")
    name: str
    school_id: int | None
    region: str | None
    location: LonLat
    direction_deg: float | None = Field(description="camera bearing, degrees from north")
    fov_deg: float | None = Field(description="camera field of view, degrees")
    status: str = Field(description="active or retired")
    installed_on: date | None
    retired_on: date | None
    source: str | None
    attributes: dict[str, Any]


class FacilityPage(BaseModel):
    """One page of facilities and how many match the filters in all."""

    facilities: list[FacilityOut]
    total: int
    limit: int
    offset: int


class DistrictCoverage(BaseModel):
    """One (district, requirement): schools bound, schools meeting it, rate against target."""

    district: str = Field(description="the first 6 digits of the schools' region, or 未登记")
    requirement_id: str
    kind: str
    kind_name: str
    schools: int
    met: int
    rate: float = Field(description="met / schools (1 when no school is bound)")
    target: float = Field(description="the requirement's target rate in the rule file")
    reached: bool


class MissingRequirement(BaseModel):
    """A requirement a school does not meet, with the reasons in Chinese."""

    requirement_id: str
    kind: str
    reasons: list[str]


class SchoolCoverage(BaseModel):
    """A school's requirements met and missing."""

    id: int
    code: str | None
    name: str
    region: str | None
    met: list[str]
    missing: list[MissingRequirement]


class CoverageOut(BaseModel):
    """Coverage of required facilities on a day (Beijing), per district and per school."""

    on: date
    region: str | None
    districts: list[DistrictCoverage]
    schools: list[SchoolCoverage]
