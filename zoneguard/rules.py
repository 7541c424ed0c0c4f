"""Rule sets per jurisdiction: loading the YAML files, resolving which rules protect a school.

Format in data/rules/README.md; the model of one rule is in `zoneguard.rule_model`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Hashable, Iterable
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict

from zoneguard import regions
from zoneguard.citations import Citation, Code, Confidence, Count, Text
from zoneguard.domain import Level
from zoneguard.errors import RuleError, ValidationError
from zoneguard.field_problems import describe
from zoneguard.labels import LEVEL_LABELS, category_label, choices
from zoneguard.requirements import Per, Requirement
from zoneguard.rule_model import (
    ORDER,
    BelowEnrolment,
    DistanceKind,
    ResolvedRule,
    Rule,
    RuleFile,
    check_consistency,
)

NATIONAL = "CN"
_REGION = regions.CODE
_NOT_A_REGION = ("行政区划代码「{}」格式不对：应为 2、4 或 6 位数字（GB/T 2260），"
                 "或 9、12 位数字（统计用区划代码）")
__all__ = ["NATIONAL", "BelowEnrolment", "Citation", "Code", "Confidence", "Count",
           "DistanceKind", "Per", "Requirement", "ResolvedRule", "Rule", "RuleFile", "RuleSet",
           "Text", "bundled_rules_dir", "load_rule_file", "load_rule_set", "region_chain"]


def region_chain(region: str | None) -> list[str]:
    """The codes whose rules apply in a region, most local first, ending with CN."""
    if region is None or region == NATIONAL:
        return [NATIONAL]
    if not isinstance(region, str):
        raise ValidationError(_NOT_A_REGION.format(region), region=region)
    return list(_chain(region))


@lru_cache(maxsize=4096)
def _chain(region: str) -> tuple[str, ...]:
    """`region_chain` of a string, cached: scans ask it for every measured pair."""
    if not _REGION.fullmatch(region):
        raise ValidationError(_NOT_A_REGION.format(region), region=region)
    code = re.sub(r"(?:00)+$", "", region[:6])  # 440100 is the city 4401, 440000 the province
    return (*[code[:n] for n in (6, 4, 2) if len(code) >= n], NATIONAL)



def check_category(category: str, known: Collection[str]) -> None:
    """Refuse a premises category outside `known` (the rules' own): list them, code and name."""
    if category not in known:
        named = choices((c, category_label(c)) for c in sorted(known))
        raise ValidationError(f"现行规则中没有「{category}」这一场所类别：可选 {named}")

class RuleSet(BaseModel):
    """Every loaded rule file; resolves which rules protect a school."""

    model_config = ConfigDict(frozen=True)
    files: tuple[RuleFile, ...]

    def model_post_init(self, context: Any, /) -> None:  # noqa: ARG002 - pydantic hook
        """Check cross-file consistency: jurisdictions, rule ids, overlapping rules."""
        check_consistency(self.files)

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

    def check_category(self, category: str) -> None:
        """Refuse a category no rule names (ValidationError listing those named)."""
        check_category(category, self.categories())

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
        if enrolment is not None and enrolment < 0:
            raise ValidationError(f"在校人数不能为负数（填写的是 {enrolment}）")
        # The answer depends on the enrolment only through its side of each threshold (and
        # on the region only through its chain), so schools of one band share an entry.
        band = None if enrolment is None else tuple(enrolment >= c for c in self.enrolment_cuts)
        key = (category, tuple(levels), tuple(region_chain(region)), on, band)
        memo = self.memo.get(key)
        if memo is None:
            if len(self.memo) > 50_000:
                self.memo.clear()
            memo = self.memo[key] = self._applicable(category, key[1], region, on, enrolment)
        return list(memo)

    @cached_property
    def enrolment_cuts(self) -> tuple[int, ...]:
        """Every enrolment threshold of the rules, ascending (what `applicable` compares)."""
        cuts = {r.min_enrolment for r in self.rules if r.min_enrolment is not None}
        for rule in self.rules:
            cuts.update((rule.min_enrolment_by_level or {}).values())
        return tuple(sorted(cuts))

    @cached_property
    def memo(self) -> dict[tuple[Any, ...], list[ResolvedRule]]:
        """Resolutions already made (scans ask the same question for many pairs)."""
        return {}

    def _applicable(self, category: str, levels: tuple[str, ...], region: str | None, on: date,
                    enrolment: int | None) -> list[ResolvedRule]:
        wanted: list[Level] = []
        for value in levels:
            try:
                wanted.append(Level(value))
            except ValueError:
                raise ValidationError(f"未知的学段「{value}」：可选 "
                                      f"{choices(LEVEL_LABELS.items())}") from None
        if enrolment is not None and enrolment < 0:
            raise ValidationError(f"在校人数不能为负数（填写的是 {enrolment}）")
        found: dict[str, tuple[Rule, set[Level], list[str]]] = {}
        for level, rule in self._resolve(category, wanted, region, on).items():
            threshold = rule.enrolment_threshold(level)
            below = threshold is not None and enrolment is not None and enrolment < threshold
            if below and rule.below_enrolment is BelowEnrolment.SKIP:
                continue
            _, covered, reasons = found.setdefault(rule.id, (rule, set(), []))
            covered.add(level)
            name = LEVEL_LABELS[level]
            if below:
                reasons.append(f"{name}在校人数低于本规则 {threshold} 人的门槛：仍属受保护对象，"
                               "适用距离另有规定，需复核")
            elif threshold is not None and enrolment is None:
                reasons.append(f"{name}在校人数未登记（本规则自 {threshold} 人起适用），需复核")
        return [
            ResolvedRule(
                rule=rule,
                levels=tuple(sorted(covered, key=ORDER.__getitem__)),
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


def _unique_keys(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
    keys = [key for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    for index, key in enumerate(keys):
        if any(key.value == prior.value for prior in keys[:index]):
            raise yaml.MarkedYAMLError(
                None, None, f"字段 {key.value!r} 重复出现", key.start_mark
            )
    result: dict[Hashable, Any] = yaml.constructor.SafeConstructor.construct_mapping(
        loader, node, deep)
    return result


class _Loader(yaml.SafeLoader):  # rejects duplicate keys, which PyYAML would silently merge
    construct_mapping = _unique_keys


# The same loader on libyaml's parser (several times faster) when PyYAML was built with it;
# a file it refuses is read again by `_Loader`, whose words the error messages keep.
_LOADERS: tuple[type[Any], ...] = (_Loader,)
if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):
        construct_mapping = _unique_keys

    _LOADERS = (_CLoader, _Loader)


def _yaml_data(source: str) -> Any:
    """The document of a rule file's text (None when empty); yaml.YAMLError when invalid."""
    for kind in _LOADERS:
        loader = kind(source)
        try:
            node = loader.get_single_node()
            return loader.construct_document(node) if node is not None else None
        except yaml.YAMLError:
            if kind is _Loader:
                raise
        finally:
            loader.dispose()
    return None


# How a rule file's maintainer is told some kinds of pydantic error (the rest as everywhere:
# `zoneguard.field_problems`). Field names stay as written in the YAML: they are what to fix.
_RULE_FILE_WORDING = {
    "extra_forbidden": "未知字段", "missing": "缺少此字段",
    "string_type": "应为文本（数字形式的文本请加引号）",
    "string_pattern_mismatch": "格式不符（应符合 {pattern}）",
    "greater_than": "应大于 {gt:g}", "greater_than_equal": "应不小于 {ge:g}",
    "less_than": "应小于 {lt:g}", "less_than_equal": "应不大于 {le:g}",
    "date_type": "应为日期，写作 YYYY-MM-DD（不加引号，不带时间）",
    "date_parsing": "应为日期，写作 YYYY-MM-DD（不加引号，不带时间）",
    "date_from_datetime_inexact": "应为日期，写作 YYYY-MM-DD（不加引号，不带时间）",
    "too_short": "至少要有 {min_length} 项",
    "dict_type": "应为映射（字段: 值）", "model_type": "应为映射（字段: 值）",
    "model_attributes_type": "应为映射（字段: 值）",
}


def _describe(error: Any, data: dict[str, Any]) -> str | None:
    loc, where = list(error["loc"]), ""
    if len(loc) >= 2 and loc[0] in ("rules", "requirements") and isinstance(loc[1], int):
        key, index, loc = loc[0], loc[1], loc[2:]
        if loc == ["jurisdiction"]:
            return None  # an echo of the file's own jurisdiction error
        raw = data[key][index]
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        noun = "规则" if key == "rules" else "设施要求"
        where = f"{noun} {rule_id!r}（{key}[{index}]）" if rule_id else f"{key}[{index}]"
    kind = error["type"]
    message = describe(error, _RULE_FILE_WORDING) or \
        str(error["msg"]).removeprefix("Value error, ")
    if kind in ("enum", "string_pattern_mismatch"):
        message += f"，实际为 {error['input']!r}"
    return "：".join(part for part in (where, ".".join(map(str, loc)), message) if part)


def load_rule_file(path: Path) -> RuleFile:
    """Read and validate one rule file; every problem raises `RuleError` naming the file."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}：无法读取规则文件（应为 UTF-8 编码的文本）：{exc}",
                        file=str(path)) from None
    try:
        data = _yaml_data(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
        detail = getattr(exc, "problem", None) or exc
        raise RuleError(f"{path}：YAML 格式有误{where}：{detail}", file=str(path)) from None
    problem = None
    if not isinstance(data, dict):
        problem = "文件内容应为映射，含 jurisdiction、name、version 和 rules 等字段"
    elif "source" in data:
        problem = "source：未知字段"
    else:
        for key in ("rules", "requirements"):
            entries = data.get(key)
            if not isinstance(entries, list):
                continue
            for index, raw in enumerate(entries):
                if isinstance(raw, dict) and ("jurisdiction" in raw or "area" in raw):
                    problem = f"{key}[{index}]：jurisdiction 和 area 只在文件顶层写一次"
                elif isinstance(raw, dict):
                    entries[index] = {**raw, "jurisdiction": data.get("jurisdiction"),
                                      "area": data.get("name")}
    if problem or not isinstance(data, dict):
        raise RuleError(f"{path}：{problem}", file=str(path))
    try:
        return RuleFile.model_validate({**data, "source": str(path)})
    except pydantic.ValidationError as exc:
        problems = [p for e in exc.errors() if (p := _describe(e, data))]
        detail = f"{path}：" + "；".join(problems)
        raise RuleError(detail, file=str(path), problems=problems) from None


def load_rule_set(rules_dir: Path) -> RuleSet:
    """Load every ``*.yaml`` / ``*.yml`` file of a directory into one validated rule set."""
    if not rules_dir.is_dir():
        raise RuleError(f"{rules_dir}：规则文件目录不存在或不是目录", file=str(rules_dir))
    paths = sorted(p for p in rules_dir.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not paths:
        raise RuleError(f"{rules_dir}：目录中没有规则文件（*.yaml、*.yml）", file=str(rules_dir))
    return RuleSet(files=tuple(load_rule_file(p) for p in paths))
