"""The rules in force in a region on a day."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class RuleOut(BaseModel):
    """One rule with its legal basis."""

    model_config = ConfigDict(extra="allow")
    id: str
    jurisdiction: str
    category: str
    protects: list[str]
    distance_m: float | None
    metric: str
    existing: str
    min_enrolment: int | None = None
    basis: str
    effective_from: date
    effective_to: date | None = None


class RulesInForce(BaseModel):
    """The rules deciding each (category, level) in a region on a day."""

    rule_set_version: str
    region: str | None
    on: date
    rules: list[RuleOut]
