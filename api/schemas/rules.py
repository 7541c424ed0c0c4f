"""The rules in force in a region on a day."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class CitationOut(BaseModel):
    """One cited legal source: issuing authority, document, 文号, article, quoted text."""

    authority: str
    title: str
    number: str | None = None
    article: str | None = None
    text: str | None = None


class RuleOut(BaseModel):
    """One rule with its legal basis."""

    id: str
    jurisdiction: str
    area: str | None = None
    category: str
    protects: list[str]
    distance_m: float | None
    distance_kind: str | None = None
    statutory: bool
    inclusive: bool
    review_within_m: float | None = None
    metric: str
    existing: str
    min_enrolment: int | None = None
    min_enrolment_by_level: dict[str, int] | None = None
    below_enrolment: str
    basis: str
    citations: list[CitationOut]
    effective_from: date
    effective_to: date | None = None


class RulesInForce(BaseModel):
    """The rules deciding each (category, level) in a region on a day."""

    rule_set_version: str
    region: str | None
    on: date
    rules: list[RuleOut]
