"""Screening requests and results."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.schemas.common import CategoryName, FeatureCollection, Location, LonLat, RegionCode
from api.schemas.rules import CitationOut


class ScreeningIn(BaseModel):
    """A licence application to screen: category, location (with CRS), optional door."""

    model_config = ConfigDict(extra="forbid")
    category: CategoryName
    location: Location
    region: RegionCode | None = None
    entrance: LonLat | None = None
    on: date | None = None


class ConflictSchool(BaseModel):
    """The school of a conflict."""

    model_config = ConfigDict(extra="allow")
    id: int
    code: str
    name: str
    levels: list[str]
    precision: str


class ConflictOut(BaseModel):
    """One school in conflict (or needing review) under one rule, with the measurement."""

    model_config = ConfigDict(extra="allow")
    school: ConflictSchool
    rule_id: str
    jurisdiction: str
    category: str
    metric: str
    distance_m: float | None
    threshold_m: float | None
    verdict: str
    reasons: list[str]
    basis: str
    citations: list[CitationOut] = []
    area: str | None = None
    statutory: bool | None = None
    existing: bool = False
    boundary_m: float | None = None
    line: list[list[float]] | None


class ScreeningOut(BaseModel):
    """The answer to an application: verdict, reasons, conflicts, measured lines, versions."""

    model_config = ConfigDict(extra="allow")
    id: int | None
    verdict: str
    category: str
    location: dict[str, Any]
    entrance: dict[str, Any]
    region: str | None
    on: date
    reasons: list[str]
    conflicts: list[ConflictOut]
    lines: FeatureCollection
    rule_set_version: str
