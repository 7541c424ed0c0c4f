"""Findings, their workflow events and transitions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.schemas.common import LongText, Page, Text
from zoneguard.domain import FindingState


class FindingOut(BaseModel):
    """A premises in conflict with a school under one rule, and its case state."""

    model_config = ConfigDict(extra="allow")
    id: int
    state: str
    verdict: str
    category: str
    school_id: int
    school_code: str
    school_name: str
    premises_id: int
    licence_no: str
    premises_name: str
    premises_region: str | None
    rule_id: str
    metric: str
    distance_m: float | None
    threshold_m: float | None
    reasons: list[Any]
    existing: bool = False
    expires_on: date | None = None
    assignee: str | None
    deadline: date | None
    overdue: bool
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    resolution: str | None
    lon: float
    lat: float
    line: dict[str, Any] | None


class FindingEventOut(BaseModel):
    """One workflow step: who, when, from → to, comment, evidence."""

    model_config = ConfigDict(extra="allow")
    id: int
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    comment: str | None
    evidence: str | None
    assignee: str | None
    deadline: date | None


class FindingDetail(FindingOut):
    """A finding with its workflow events, oldest first."""

    events: list[FindingEventOut]


FindingPage = Page[FindingOut]


class TransitionIn(BaseModel):
    """Move a finding to another workflow state."""

    model_config = ConfigDict(extra="forbid")
    state: FindingState
    comment: LongText | None = None
    evidence: LongText | None = None
    assignee: Text | None = None
    deadline: date | None = None
    reason: LongText | None = None
