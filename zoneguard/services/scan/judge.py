"""Judging measured pairs: each (premises, school) pair under its rules, by `judge_pair`.

A scan streams its measured pairs through `judge_pairs`, which calls
`evaluation.judge_pair` exactly as a screening does and keeps the non-allowed verdicts as
rows for the `scan_hit` table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring
from typing import Any

from spatial.measure import SchoolCandidate
from spatial.walking import Walker
from zoneguard.domain import GeometryPrecision, Verdict
from zoneguard.evaluation import DEFAULT_REACH_M, PairRule, Tolerances, judge_pair, pair_rules
from zoneguard.evaluation import reach_m as rule_reach_m
from zoneguard.rules import RuleSet

__all__ = ["DEFAULT_REACH_M", "Plan", "RowJudge", "WalkLater", "judge_pairs", "make_judge",
           "walk_later"]


@dataclass
class Plan:
    """What one scan measures: everything, or only what changed since a base scan."""

    on: date
    region: str | None
    rules: RuleSet
    tolerances: Tolerances
    base_scan_id: int | None = None
    base_xmin: int = 0
    base_day: date | None = None
    schools: list[int] = field(default_factory=list)  # changed schools (incremental)
    walking_snap_max_m: float = 50.0
    max_entrance_m: float = 50.0  # a farther entrance is ignored: measured from the point

    @property
    def incremental(self) -> bool:
        """True when only changed premises and schools are measured."""
        return self.base_scan_id is not None


def _line(judged: Any) -> str | None:
    """EWKT of the measured line: the walked path where the rule walks, else two points."""
    if judged.path:
        return "SRID=4326;LINESTRING(" + ", ".join(f"{x!r} {y!r}" for x, y in judged.path) + ")"
    if not judged.line:
        return None
    (x1, y1), (x2, y2) = judged.line
    return f"SRID=4326;LINESTRING({x1!r} {y1!r}, {x2!r} {y2!r})"


def _json_strings(values: list[str]) -> str:
    """JSON text of a list of strings (as `json.dumps(values, ensure_ascii=False)`).

    json's own string encoder, without the JSONEncoder that `json.dumps` builds per call:
    this runs once per judged pair.
    """
    return "[" + ", ".join(encode_basestring(str(v)) for v in values) + "]"


_FIELDS = tuple(SchoolCandidate._fields)
CACHE_KEYS = 50_000  # rule keys (category, levels, regions, enrolment band) kept per judge


class WalkLater(Exception):
    """A pair needs a walk (queries) while the measurement still streams on the connection."""


def walk_later(_school: SchoolCandidate, _door: tuple[float, float]) -> Any:
    """A walker for the first, streaming pass: every walk is deferred (`WalkLater`)."""
    raise WalkLater


#: Judges one measured row with a walker: the rows of its non-allowed verdicts (`scan_hit`).
RowJudge = Callable[[Sequence[Any], Walker | None], list[tuple[Any, ...]]]


def make_judge(columns: list[str], plan: Plan) -> RowJudge:
    """A judge of measured rows with `columns` under the plan's rules (see `judge_pairs`)."""
    rules, on, tol = plan.rules, plan.on, plan.tolerances
    reach = {c: rule_reach_m(rules, c) for c in rules.categories()}
    cuts = rules.enrolment_cuts  # `applicable` depends on no more than these
    at = {name: columns.index(name) for name in columns}
    school_at = [at[name] for name in _FIELDS]
    levels_at = _FIELDS.index("levels")
    p_id, cat, p_region, issued = (at["premises_id"], at["category"], at["premises_region"],
                                   at["issued_on"])
    lon, lat, door_lon, door_lat = at["lon"], at["lat"], at["door_lon"], at["door_lat"]
    levels_col, region_col, enrol_col, precision_col = (
        at["levels"], at["school_region"], at["enrolment"], at["precision"])
    boundary_col, gate_col = at["boundary_m"], at["gate_m"]
    door_boundary_col = at["door_boundary_m"]
    # Per rule key: the rules and the distance beyond which every one of them is `allowed`
    # (threshold, or the category's reach when a rule sets none, + margin; a point-only
    # school adds its assumed radius). Most measured pairs of a city lie beyond it for the
    # rules that apply to them, and are not judged one by one.
    cache: dict[tuple[Any, ...], tuple[list[PairRule], float]] = {}
    radius = tol.point_school_radius_m
    allowed = Verdict.ALLOWED  # an enum member looked up once, not per pair

    def rules_for(category: str, levels: tuple[str, ...], school_region: str | None,
                  premises_region: str | None, enrolment: int | None,
                  key: tuple[Any, ...]) -> tuple[list[PairRule], float]:
        resolved = pair_rules(rules, category=category, levels=levels,
                              school_region=school_region, premises_region=premises_region,
                              on=on, enrolment=enrolment)
        beyond = max((r.rule.distance_m if r.rule.distance_m is not None else
                      r.rule.review_within_m or reach[category]
                      for r, _ in resolved), default=-1.0) + tol.margin_m
        if len(cache) >= CACHE_KEYS:  # bounded memory, however many region pairs a nation has
            cache.clear()
        cache[key] = (resolved, beyond)
        return cache[key]

    def judge_row(row: Sequence[Any], walker: Walker | None) -> list[tuple[Any, ...]]:
        category = row[cat]
        levels = tuple(row[levels_col])
        school_region, premises_region = row[region_col], row[p_region]
        enrolment = row[enrol_col]
        band = None if enrolment is None else tuple(enrolment >= c for c in cuts)
        key = (category, levels, school_region, premises_region, band)
        resolved, beyond = cache.get(key) or rules_for(
            category, levels, school_region, premises_region, enrolment, key)
        if row[precision_col] == GeometryPrecision.POINT.value:
            beyond += radius
        gate_m, door_m = row[gate_col], row[door_boundary_col]
        straight = row[boundary_col]
        if gate_m is not None and gate_m < straight:
            straight = gate_m
        if door_m is not None and door_m < straight:
            straight = door_m
        if straight > beyond:
            return []  # `judge` answers allowed under each rule: nothing to record
        found: list[tuple[Any, ...]] = []
        values = [row[i] for i in school_at]
        values[levels_at] = levels
        school = SchoolCandidate(*values)
        for judged in judge_pair(school, resolved, point=(row[lon], row[lat]),
                                 door=(row[door_lon], row[door_lat]), tolerances=tol,
                                 issued_on=row[issued], fallback_threshold_m=reach[category],
                                 walker=walker):
            if judged.verdict is not allowed:
                found.append((school.school_id, row[p_id], judged.rule.rule.id, judged.metric,
                              judged.distance_m, judged.threshold_m, judged.verdict.value,
                              _json_strings(judged.reasons), _line(judged), judged.existing))
        return found

    return judge_row


def judge_pairs(columns: list[str], rows: Iterable[Sequence[Any]], plan: Plan,
                walker: Walker | None = None, *,
                streaming: bool = False) -> tuple[int, list[tuple[Any, ...]]]:
    """Judge measured pairs under their rules; return (pairs, rows of non-allowed verdicts).

    With `streaming`, `rows` still holds the connection: a pair that needs `walker` is judged
    once `rows` is exhausted, its verdicts put back in place (the order of the rows).
    """
    if not columns:  # a streamed result without rows may come without a description
        return 0, []
    judge_row = make_judge(columns, plan)
    hits: list[tuple[Any, ...]] = []
    later: list[tuple[int, Sequence[Any]]] = []  # (position in hits, row)
    first_pass = walk_later if streaming and walker is not None else walker
    pairs = 0
    for row in rows:
        pairs += 1
        try:
            hits.extend(judge_row(row, first_pass))
        except WalkLater:
            later.append((len(hits), row))
    if not later:
        return pairs, hits
    merged: list[tuple[Any, ...]] = []
    done = 0
    for at_hit, row in later:
        merged.extend(hits[done:at_hit])
        merged.extend(judge_row(row, walker))
        done = at_hit
    merged.extend(hits[done:])
    return pairs, merged
