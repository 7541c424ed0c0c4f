"""The rule model: a rule, a rule file, a rule resolved for a school, checks across files.

Loading the files and resolving which rules protect a school live in `zoneguard.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from zoneguard.citations import LEVEL_ORDER, Citation, Code, Count, Provision, Text
from zoneguard.domain import ExistingPolicy, Level, Metric
from zoneguard.errors import RuleError
from zoneguard.requirements import Requirement

ORDER = LEVEL_ORDER


class DistanceKind(StrEnum):
    """Whether a rule's distance is written in law or is a default of ZoneGuard's files."""

    STATUTORY = "statutory"  # in a law, regulation or the jurisdiction's normative document
    DEFAULT = "default"  # a common value used where the place has set none: never 禁止 alone


class BelowEnrolment(StrEnum):
    """What a rule does for a school below its enrolment threshold."""

    SKIP = "skip"  # the rule does not protect such a school
    REVIEW = "review"  # it is protected at a distance the rule does not fix: review


class Rule(Provision):
    """One rule: category, protected levels, distance, metric, citations, effective dates."""

    id: Annotated[str, Field(strict=True, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    jurisdiction: Code
    area: Text | None = None  # the file's `name` (全国, 北京市…), set by the loader
    category: Annotated[str, Field(strict=True, pattern=r"^[a-z][a-z0-9_]*$")]
    protects: tuple[Level, ...] = Field(min_length=1)
    distance_m: Annotated[float, Field(gt=0, strict=True, allow_inf_nan=False)] | None
    distance_kind: DistanceKind | None = None
    inclusive: bool = True  # "N 米范围内不得" includes N; "不得少于 N 米" does not forbid N
    review_within_m: Annotated[float, Field(gt=0, strict=True, allow_inf_nan=False)] | None = None
    metric: Metric
    existing: ExistingPolicy
    min_enrolment: Count | None = None
    min_enrolment_by_level: dict[Level, Count] | None = None
    below_enrolment: BelowEnrolment = BelowEnrolment.SKIP
    citations: tuple[Citation, ...] = Field(min_length=1)
    effective_from: Annotated[date, Field(strict=True)]  # YAML date, unquoted: YYYY-MM-DD
    effective_to: Annotated[date, Field(strict=True)] | None = None
    notes: Text | None = None  # internal: for rule authors, shown by `zoneguard rules`

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Rule:
        self.check_period()
        stray = sorted(set(self.min_enrolment_by_level or {}) - set(self.protects))
        if stray:
            raise ValueError(f"min_enrolment_by_level 列出了本规则不保护的学段：{stray}")
        if self.distance_m is not None and self.distance_kind is None:
            raise ValueError("distance_kind：须说明距离是法定的（statutory）还是默认的（default）")
        if self.distance_m is None and self.distance_kind is not None:
            raise ValueError("distance_kind：只有规定了距离的规则才有此字段")
        if self.distance_m is not None and self.review_within_m is not None:
            raise ValueError("review_within_m：只用于没有规定距离的规则")
        return self

    @property
    def statutory(self) -> bool:
        """True when the distance is written in law (a default never prohibits alone)."""
        return self.distance_kind is DistanceKind.STATUTORY

    def public(self) -> dict[str, Any]:
        """The rule as users and API clients see it: no confidence labels, sources or notes."""
        return {**super().public(), "statutory": self.statutory}

    def enrolment_threshold(self, level: Level) -> int | None:
        """Return the minimum enrolment from which the rule protects a school of this level."""
        return (self.min_enrolment_by_level or {}).get(level, self.min_enrolment)


class RuleFile(BaseModel):
    """The rules of one jurisdiction, as loaded from one file (``source``).

    A jurisdiction has one file with its bans (``rules``); further files of the same
    jurisdiction may hold only ``requirements`` (see data/rules/README.md).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    jurisdiction: Code
    name: Text
    version: Text
    notes: Text | None = None
    source: str = ""
    rules: tuple[Rule, ...] = ()
    requirements: tuple[Requirement, ...] = ()

    @pydantic.model_validator(mode="after")
    def _not_empty(self) -> RuleFile:
        if not self.rules and not self.requirements:
            raise ValueError("rules：缺少此字段：规则文件至少要有 1 条规则（rules）"
                             "或设施要求（requirements）")
        return self


class ResolvedRule(BaseModel):
    """A rule protecting a school, the levels it was chosen for, and why to answer review."""

    model_config = ConfigDict(frozen=True)
    rule: Rule
    levels: tuple[Level, ...]
    enrolment_unknown: bool = False
    review_reasons: tuple[str, ...] = ()

    @property
    def needs_review(self) -> bool:
        """Tell whether the caller must answer ``review`` for this rule."""
        return bool(self.review_reasons)


def check_consistency(files: Iterable[RuleFile]) -> None:
    """Refuse repeated jurisdictions or ids and rules of one file covering the same ground."""
    codes: dict[str, str] = {}
    ids: dict[str, str] = {}
    for file in files:
        src = file.source
        for requirement in file.requirements:
            if requirement.id in ids:
                seen = ids[requirement.id]
                raise RuleError(f"{src}: duplicate id {requirement.id!r} ({seen})", file=src)
            ids[requirement.id] = src
        if not file.rules:
            continue  # a requirements-only file may share its jurisdiction
        if file.jurisdiction in codes:
            seen = codes[file.jurisdiction]
            raise RuleError(f"{src}: jurisdiction {file.jurisdiction} repeats {seen}", file=src)
        codes[file.jurisdiction] = src
        for index, rule in enumerate(file.rules):
            if rule.id in ids:
                raise RuleError(f"{src}: duplicate rule id {rule.id!r} ({ids[rule.id]})", file=src)
            ids[rule.id] = src
            for prior in file.rules[:index]:
                common = sorted(set(rule.protects) & set(prior.protects), key=ORDER.__getitem__)
                shared = ", ".join(map(str, common))
                day = max(prior.effective_from, rule.effective_from)  # first common day, if any
                overlap = prior.in_force(day) and rule.in_force(day)
                if prior.category == rule.category and shared and overlap:
                    both = f"rules {prior.id!r} and {rule.id!r} both cover {rule.category}"
                    raise RuleError(f"{src}: {both} for {shared} on overlapping dates", file=src)
