"""Checks of a rule set that the loader does not make: what a rule author must still fix.

A loaded rule set is well formed; lint says whether it is defensible: a statutory distance
must cite the article that states it, a default must say in its notes where its value
comes from, and nothing uncertain may pass as statute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zoneguard.domain import ExistingPolicy
from zoneguard.rules import Confidence, Rule, RuleSet

_MARKER = re.compile(r"\[[CSU][^\]]*\]|待核|未核实")


@dataclass(frozen=True)
class Problem:
    """One lint finding about one rule."""

    rule_id: str
    source: str
    message: str


def _rule_problems(rule: Rule) -> list[str]:
    found = []
    if rule.statutory and not any(c.article and (c.text or (c.number or "").startswith("GB "))
                                  for c in rule.citations):
        found.append("法定距离没有写明条款及条文的依据"
                     "（国家标准的表格可只写条款号）")
    if rule.statutory and all(c.confidence is Confidence.UNVERIFIED for c in rule.citations):
        found.append("法定距离所依据的引文均未经核实")
    if rule.distance_m is not None and not rule.statutory and not rule.notes:
        found.append("默认距离没有在 notes 中说明取值来源")
    if rule.distance_m is None and rule.review_within_m is None:
        found.append("规则既没有距离也没有 review_within_m：将以该类别的最大距离作为复核半径")
    if rule.existing is ExistingPolicy.VIOLATION and not rule.statutory:
        found.append("existing: violation 用在默认距离上，复议时站不住")
    for index, citation in enumerate(rule.citations):
        shown = " ".join(filter(None, (citation.authority, citation.title, citation.number,
                                       citation.article, citation.text)))
        if _MARKER.search(shown):
            found.append(f"citations[{index}] 把内部标记显示给了用户：{shown[:60]!r}")
        if re.fullmatch(r"CN|[0-9]{2,6}", citation.authority):
            found.append(f"citations[{index}].authority 写的是代码，应写发布机关名称")
    return found


def lint(rule_set: RuleSet) -> list[Problem]:
    """Every problem of every rule, in rule-id order."""
    sources = {rule.id: file.source for file in rule_set.files for rule in file.rules}
    return [Problem(rule.id, sources[rule.id], message)
            for rule in rule_set.rules for message in _rule_problems(rule)]
