"""Schools and premises: what the API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    CategoryName,
    CrsName,
    Geometry,
    GeometryIn,
    Location,
    LongText,
    LonLat,
    Page,
    RegionCode,
    Text,
)
from zoneguard.domain import Level, PremisesStatus

Enrolment = Annotated[int, Field(ge=0, le=1_000_000)]


class SchoolOut(BaseModel):
    """A school as stored (geometry: the campus polygon, or its point)."""

    id: int
    code: str
    name: str
    levels: list[str]
    enrolment: int | None
    region: str | None
    address: str | None
    precision: str
    opened_on: date | None
    closed_on: date | None
    source: str | None
    updated_at: datetime
    location: LonLat
    geometry: Geometry


class SchoolIn(BaseModel):
    """A new school: a campus polygon (or a point when no campus is known) in `crs`."""

    model_config = ConfigDict(extra="forbid")
    code: Text
    name: Text
    levels: list[Level] = Field(min_length=1, max_length=6)
    geometry: GeometryIn
    crs: CrsName = "EPSG:4326"
    enrolment: Enrolment | None = None
    region: RegionCode | None = None
    address: LongText | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    source: LongText | None = None


class SchoolPatch(BaseModel):
    """Fields of a school to change (a geometry is read in `crs`)."""

    model_config = ConfigDict(extra="forbid")
    code: Text | None = None
    name: Text | None = None
    levels: list[Level] | None = Field(default=None, min_length=1, max_length=6)
    geometry: GeometryIn | None = None
    crs: CrsName = "EPSG:4326"
    enrolment: Enrolment | None = None
    region: RegionCode | None = None
    address: LongText | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    source: LongText | None = None


SchoolPage = Page[SchoolOut]


class PremisesOut(BaseModel):
    """A premises as stored (positions in EPSG:4326)."""

    id: int
    category: str
    licence_no: str
    name: str
    address: str | None
    operator: str | None
    region: str | None
    status: str
    issued_on: date | None
    expires_on: date | None
    source: str | None
    source_crs: str | None
    updated_at: datetime
    location: LonLat
    entrance: LonLat | None
    geometry: Geometry


class PremisesIn(BaseModel):
    """A new premises; `entrance` (its door) is in the CRS of `location`."""

    model_config = ConfigDict(extra="forbid")
    category: CategoryName
    licence_no: Text
    name: Text
    location: Location
    entrance: LonLat | None = None
    region: RegionCode | None = None
    address: LongText | None = None
    operator: LongText | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    status: PremisesStatus = PremisesStatus.ACTIVE
    source: LongText | None = None


class PremisesPatch(BaseModel):
    """Fields of a premises to change; positions are read in `location.crs` (or EPSG:4326)."""

    model_config = ConfigDict(extra="forbid")
    category: CategoryName | None = None
    licence_no: Text | None = None
    name: Text | None = None
    location: Location | None = None
    entrance: LonLat | None = None
    region: RegionCode | None = None
    address: LongText | None = None
    operator: LongText | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    status: PremisesStatus | None = None
    source: LongText | None = None


PremisesPage = Page[PremisesOut]
