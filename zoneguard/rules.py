"""Rule sets per jurisdiction, loaded from YAML; format and resolution in data/rules/README.md."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Hashable, Iterable
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field

from zoneguard import regions
from zoneguard.citations import Citation, Code, Confidence, Count, Text
from zoneguard.domain import ExistingPolicy, Level, Metric
from zoneguard.errors import RuleError, ValidationError
from zoneguard.requirements import Per, Requirement

NATIONAL = "CN"
LEVEL_NAMES = {
    Level.KINDERGARTEN: "幼儿园", Level.PRIMARY: "小学", Level.SECONDARY: "中学",
    Level.VOCATIONAL: "中等职业学校", Level.SPECIAL: "特殊教育学校", Level.HIGHER: "高等学校",
}
_ORDER = {level: index for index, level in enumerate(Level)}
_REGION = regions.CODE
__all__ = ["NATIONAL", "BelowEnrolment", "Citation", "Code", "Confidence", "Count",
           "DistanceKind", "Per", "Requirement", "ResolvedRule", "Rule", "RuleFile", "RuleSet",
           "Text", "bundled_rules_dir", "load_rule_file", "load_rule_set", "region_chain"]


class DistanceKind(StrEnum):
    """Whether a rule's distance is written in law or is a default of ZoneGuard's files."""

    STATUTORY = "statutory"  # in a law, regulation or the jurisdiction's normative document
    DEFAULT = "default"  # a common value used where the place has set none: never 禁止 alone


class BelowEnrolment(StrEnum):
    """What a rule does for a school below its enrolment threshold."""

    SKIP = "skip"  # the rule does not protect such a school
    REVIEW = "review"  # it is protected at a distance the rule does not fix: review


class Rule(BaseModel):
    """One rule: category, protected levels, distance, metric, citations, effective dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)
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

    @pydantic.field_validator("protects")
    @classmethod
    def _canonical(cls, value: tuple[Level, ...]) -> tuple[Level, ...]:
        return tuple(sorted(set(value), key=_ORDER.__getitem__))

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before {self.effective_from}")
        stray = sorted(set(self.min_enrolment_by_level or {}) - set(self.protects))
        if stray:
            raise ValueError(f"min_enrolment_by_level names levels not protected: {stray}")
        if self.distance_m is not None and self.distance_kind is None:
            raise ValueError("distance_kind: say whether the distance is statutory or a default")
        if self.distance_m is None and self.distance_kind is not None:
            raise ValueError("distance_kind: only a rule with a distance has one")
        if self.distance_m is not None and self.review_within_m is not None:
            raise ValueError("review_within_m: only for a rule without a distance")
        return self

    @property
    def statutory(self) -> bool:
        """True when the distance is written in law (a default never prohibits alone)."""
        return self.distance_kind is DistanceKind.STATUTORY

    @property
    def basis(self) -> str:
        """The legal basis as printed for people: every citation, without internal labels."""
        return "；".join(citation.display() for citation in self.citations)

    def public(self) -> dict[str, Any]:
        """The rule as users and API clients see it: no confidence labels, sources or notes."""
        out = self.model_dump(mode="json", exclude={"notes", "citations"})
        out["citations"] = [c.model_dump(mode="json", exclude={"confidence", "source"})
                            for c in self.citations]
        out["basis"] = self.basis
        out["statutory"] = self.statutory
        return out

    def in_force(self, on: date) -> bool:
        """Tell whether the rule is effective on a day (both ends inclusive)."""
        return self.effective_from <= on <= (self.effective_to or date.max)

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
            raise ValueError("rules: missing field: a rule file needs at least 1 rule or "
                             "requirement")
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


def region_chain(region: str | None) -> list[str]:
    """The codes whose rules apply in a region, most local first, ending with CN."""
    if region is None or region == NATIONAL:
        return [NATIONAL]
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ValidationError(f"region {region!r} is not a GB/T 2260 code", region=region)
    code = re.sub(r"(?:00)+$", "", region[:6])  # 440100 is the city 4401, 440000 the province
    return [code[:n] for n in (6, 4, 2) if len(code) >= n] + [NATIONAL]


def _check_consistency(files: Iterable[RuleFile]) -> None:
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
                common = sorted(set(rule.protects) & set(prior.protects), key=_ORDER.__getitem__)
                shared = ", ".join(map(str, common))
                day = max(prior.effective_from, rule.effective_from)  # first common day, if any
                overlap = prior.in_force(day) and rule.in_force(day)
                if prior.category == rule.category and shared and overlap:
                    both = f"rules {prior.id!r} and {rule.id!r} both cover {rule.category}"
                    raise RuleError(f"{src}: {both} for {shared} on overlapping dates", file=src)


class RuleSet(BaseModel):
    """Every loaded rule file; resolves which rules protect a school."""

    model_config = ConfigDict(frozen=True)
    files: tuple[RuleFile, ...]

    def model_post_init(self, context: Any, /) -> None:  # noqa: ARG002 - pydantic hook
        """Check cross-file consistency: jurisdictions, rule ids, overlapping rules."""
        _check_consistency(self.files)

    @cached_property
    def version(self) -> str:
        """Content hash of the parsed rules, independent of file order and YAML layout."""
        rules: list[Any] = [rule.model_dump(mode="json") for rule in self.rules]
        if self.requirements:  # rule sets without requirements keep their earlier version
            rules.append([r.model_dump(mode="json") for r in self.requirements])
        canonical = json.dumps(rules, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return "rs-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule of every file, ordered by id."""
        return tuple(sorted((r for f in self.files for r in f.rules), key=lambda r: r.id))

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """Every facility requirement of every file, ordered by id."""
        found = (r for f in self.files for r in f.requirements)
        return tuple(sorted(found, key=lambda r: r.id))

    def requirements_in_force(self, region: str | None, on: date) -> list[Requirement]:
        """The requirements binding a region on a day: per (kind, per), the most local."""
        chain = region_chain(region)
        rank = {code: index for index, code in enumerate(chain)}
        hits = sorted((r for r in self.requirements if r.jurisdiction in rank and r.in_force(on)),
                      key=lambda r: (rank[r.jurisdiction], r.id))
        chosen: dict[tuple[str, str], Requirement] = {}
        for requirement in hits:
            chosen.setdefault((requirement.kind, requirement.per.value), requirement)
        return sorted(chosen.values(), key=lambda r: r.id)

    def categories(self) -> set[str]:
        """Return every category some rule names."""
        return {rule.category for rule in self.rules}

    def max_distance_m(self, category: str | None = None) -> float:
        """Return the farthest any rule (of one category) looks; 0.0 when none is set.

        That is a rule's distance, or the review radius of a rule without one.
        """
        found = [r.distance_m if r.distance_m is not None else r.review_within_m
                 for r in self.rules if category in (None, r.category)]
        return max((d for d in found if d is not None), default=0.0)

    def area_name(self, code: str) -> str:
        """The name of a rule file's area as people read it (全国, 北京市…); else the code."""
        return next((f.name for f in self.files if f.jurisdiction == code), code)

    def _resolve(
        self, category: str, levels: Iterable[Level], region: str | None, on: date
    ) -> dict[Level, Rule]:
        by_code = {file.jurisdiction: file for file in self.files}
        chain = [by_code[code] for code in region_chain(region) if code in by_code]
        hits = [r for f in chain for r in f.rules if r.category == category and r.in_force(on)]
        first = {level: next((r for r in hits if level in r.protects), None) for level in levels}
        return {level: rule for level, rule in first.items() if rule is not None}

    def applicable(
        self,
        *,
        category: str,
        levels: Iterable[str],
        region: str | None,
        on: date,
        enrolment: int | None = None,
    ) -> list[ResolvedRule]:
        """Return the rules protecting a school of these levels in a region on a day."""
        key = (category, tuple(levels), region, on, enrolment)
        memo = self.memo.get(key)
        if memo is None:
            if len(self.memo) > 50_000:
                self.memo.clear()
            memo = self.memo[key] = self._applicable(*key)
        return list(memo)

    @cached_property
    def memo(self) -> dict[tuple[Any, ...], list[ResolvedRule]]:
        """Resolutions already made (scans ask the same question for many pairs)."""
        return {}

    def _applicable(self, category: str, levels: tuple[str, ...], region: str | None, on: date,
                    enrolment: int | None) -> list[ResolvedRule]:
        try:
            wanted = [Level(value) for value in levels]
        except ValueError as exc:
            raise ValidationError(f"unknown school level: {exc}") from None
        if enrolment is not None and enrolment < 0:
            raise ValidationError(f"enrolment must not be negative, got {enrolment}")
        found: dict[str, tuple[Rule, set[Level], list[str]]] = {}
        for level, rule in self._resolve(category, wanted, region, on).items():
            threshold = rule.enrolment_threshold(level)
            below = threshold is not None and enrolment is not None and enrolment < threshold
            if below and rule.below_enrolment is BelowEnrolment.SKIP:
                continue
            _, covered, reasons = found.setdefault(rule.id, (rule, set(), []))
            covered.add(level)
            name = LEVEL_NAMES[level]
            if below:
                reasons.append(f"{name}在校人数低于本规则 {threshold} 人的门槛：仍属受保护对象，"
                               "适用距离另有规定，需复核")
            elif threshold is not None and enrolment is None:
                reasons.append(f"{name}在校人数未登记（本规则自 {threshold} 人起适用），需复核")
        return [
            ResolvedRule(
                rule=rule,
                levels=tuple(sorted(covered, key=_ORDER.__getitem__)),
                enrolment_unknown=enrolment is None and bool(reasons),
                review_reasons=(("本规则未规定具体距离，需复核",) * (rule.distance_m is None)
                                + tuple(dict.fromkeys(reasons))),
            )
            for rule, covered, reasons in sorted(found.values(), key=lambda item: item[0].id)
        ]

    def rules_in_force(self, region: str | None, on: date) -> list[Rule]:
        """Return the rules that decide some (category, level) in a region on a day."""
        chosen = (self._resolve(category, Level, region, on) for category in self.categories())
        winners = {rule.id: rule for by_level in chosen for rule in by_level.values()}
        return sorted(winners.values(), key=lambda r: (r.category, r.id))


def bundled_rules_dir() -> Path:
    """Return the directory of the rule files shipped with ZoneGuard."""
    return Path(__file__).resolve().parents[1] / "data" / "rules"


class _Loader(yaml.SafeLoader):  # rejects duplicate keys, which PyYAML would silently merge
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        keys = [key for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
        for index, key in enumerate(keys):
            if any(key.value == prior.value for prior in keys[:index]):
                raise yaml.MarkedYAMLError(
                    None, None, f"duplicate key {key.value!r}", key.start_mark
                )
        return super().construct_mapping(node, deep)


def _describe(error: Any, data: dict[str, Any]) -> str | None:
    loc, where = list(error["loc"]), ""
    if len(loc) >= 2 and loc[0] in ("rules", "requirements") and isinstance(loc[1], int):
        key, index, loc = loc[0], loc[1], loc[2:]
        if loc == ["jurisdiction"]:
            return None  # an echo of the file's own jurisdiction error
        raw = data[key][index]
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        noun = "rule" if key == "rules" else "requirement"
        where = f"{noun} {rule_id!r} ({key}[{index}])" if rule_id else f"{key}[{index}]"
    message, kind = str(error["msg"]).removeprefix("Value error, "), error["type"]
    message = {"extra_forbidden": "unknown field", "missing": "missing field"}.get(kind, message)
    if kind in ("enum", "string_pattern_mismatch"):
        message += f", got {error['input']!r}"
    return ": ".join(part for part in (where, ".".join(map(str, loc)), message) if part)


def load_rule_file(path: Path) -> RuleFile:
    """Read and validate one rule file; every problem raises `RuleError` naming the file."""
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}", file=str(path)) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = getattr(exc, "problem", None) or exc
        raise RuleError(f"{path}: invalid YAML{where}: {detail}", file=str(path)) from None
    finally:
        loader.dispose()
    problem = None
    if not isinstance(data, dict):
        problem = "expected a mapping with jurisdiction, name, version and rules"
    elif "source" in data:
        problem = "source: unknown field"
    else:
        for key in ("rules", "requirements"):
            entries = data.get(key)
            if not isinstance(entries, list):
                continue
            for index, raw in enumerate(entries):
                if isinstance(raw, dict) and ("jurisdiction" in raw or "area" in raw):
                    problem = f"{key}[{index}]: jurisdiction and area: set once, at file level"
                elif isinstance(raw, dict):
                    entries[index] = {**raw, "jurisdiction": data.get("jurisdiction"),
                                      "area": data.get("name")}
    if problem or not isinstance(data, dict):
        raise RuleError(f"{path}: {problem}", file=str(path))
    try:
        return RuleFile.model_validate({**data, "source": str(path)})
    except pydantic.ValidationError as exc:
        problems = [p for e in exc.errors() if (p := _describe(e, data))]
        detail = f"{path}: " + "; ".join(problems)
        raise RuleError(detail, file=str(path), problems=problems) from None


def load_rule_set(rules_dir: Path) -> RuleSet:
    """Load every ``*.yaml`` / ``*.yml`` file of a directory into one validated rule set."""
    if not rules_dir.is_dir():
        raise RuleError(f"{rules_dir}: not a directory of rule files", file=str(rules_dir))
    paths = sorted(p for p in rules_dir.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not paths:
        raise RuleError(f"{rules_dir}: no rule files (*.yaml, *.yml)", file=str(rules_dir))
    return RuleSet(files=tuple(load_rule_file(p) for p in paths))
