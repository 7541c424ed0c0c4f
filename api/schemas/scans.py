"""Scan records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.schemas.common import Page, RegionCode


class ScanIn(BaseModel):
    """What to rescan: a region (default everything); `full` forces a full rescan."""

    model_config = ConfigDict(extra="forbid")
    region: RegionCode | None = None
    full: bool = False


class ScanOut(BaseModel):
    """One scan: trigger, timing, rule-set version, counts, status and error."""

    id: int
    trigger: str
    region: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    rule_set_version: str | None
    data_versions: dict[str, Any]
    new: int
    still_open: int
    resolved: int
    reopened: int
    pairs: int
    error: str | None


ScanPage = Page[ScanOut]
