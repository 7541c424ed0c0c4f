"""Findings, their workflow events and transitions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from api.schemas.cases import EvidenceOut
from api.schemas.common import LongText, Page, Text


class FindingOut(BaseModel):
    """A premises in conflict with a school under one rule, and its case state."""

    model_config = ConfigDict(extra="allow")
    id: int
    kind: str
    state: str
    state_name: str
    verdict: str
    category: str
    school_id: int
    school_code: str
    school_name: str
    premises_id: int | None
    licence_no: str | None
    premises_name: str | None
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
    step_due: date | None = None
    overdue: bool
    supervision: Literal["yellow", "red"] | None = None
    rebound: bool = False
    review_on: date | None = None
    field_distance_m: float | None = None
    field_verdict: str | None = None
    effective_verdict: str | None = None  # the field verdict when measured on site, else verdict
    problem_category: str | None = None
    description: str | None = None
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
    evidence: list[EvidenceOut] = []


FindingPage = Page[FindingOut]


class ActionIn(BaseModel):
    """One step of the case loop: the action and what it needs."""

    model_config = ConfigDict(extra="forbid")
    action: Text
    comment: LongText | None = None
    unit: Text | None = None  # the responsible unit, when assigning (交办)
    deadline: date | None = None  # of the rectification, when assigning
    closing: Literal["unfounded", "retained", "special"] | None = None  # when proposing
