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
        found.append("statutory distance without a citation giving the article and its text "
                     "(a national standard's table may be cited by its article alone)")
    if rule.statutory and all(c.confidence is Confidence.UNVERIFIED for c in rule.citations):
        found.append("statutory distance resting only on unverified citations")
    if rule.distance_m is not None and not rule.statutory and not rule.notes:
        found.append("default distance without notes saying where the value comes from")
    if rule.distance_m is None and rule.review_within_m is None:
        found.append("rule without a distance and without review_within_m: the category's "
                     "largest distance is used as the review radius")
    if rule.existing is ExistingPolicy.VIOLATION and not rule.statutory:
        found.append("existing: violation on a default distance cannot stand on appeal")
    for index, citation in enumerate(rule.citations):
        shown = " ".join(filter(None, (citation.authority, citation.title, citation.number,
                                       citation.article, citation.text)))
        if _MARKER.search(shown):
            found.append(f"citations[{index}] shows an internal marker to users: {shown[:60]!r}")
        if re.fullmatch(r"CN|[0-9]{2,6}", citation.authority):
            found.append(f"citations[{index}].authority is a code, not an authority's name")
    return found


def lint(rule_set: RuleSet) -> list[Problem]:
    """Every problem of every rule, in rule-id order."""
    sources = {rule.id: file.source for file in rule_set.files for rule in file.rules}
    return [Problem(rule.id, sources[rule.id], message)
            for rule in rule_set.rules for message in _rule_problems(rule)]
