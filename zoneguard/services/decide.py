"""Verdicts: one measured school candidate under one resolved rule → prohibited/review/allowed.

Screening and scans both call `judge`, so a premises gets the same answer either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from spatial.measure import SchoolCandidate
from spatial.walking import Walker, WalkFailure
from zoneguard.domain import ExistingPolicy, GeometryPrecision, Metric, Verdict
from zoneguard.rules import ResolvedRule

Point = tuple[float, float]


@dataclass(frozen=True)
class Tolerances:
    """Settings that shape a verdict."""

    margin_m: float
    point_school_radius_m: float


@dataclass
class Judgement:
    """The verdict of one premises against one school under one rule, with its evidence."""

    school: SchoolCandidate
    rule: ResolvedRule
    metric: str
    distance_m: float | None
    threshold_m: float | None
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    line: tuple[Point, Point] | None = None
    path: list[Point] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description of the conflict (for responses and stored records)."""
        rule = self.rule.rule
        return {
            "school": {"id": self.school.school_id, "code": self.school.school_code,
                       "name": self.school.school_name, "levels": list(self.school.levels),
                       "precision": self.school.precision},
            "rule_id": rule.id,
            "jurisdiction": rule.jurisdiction,
            "category": rule.category,
            "metric": self.metric,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
            "threshold_m": self.threshold_m,
            "verdict": self.verdict.value,
            "reasons": self.reasons,
            "basis": rule.basis,
            "line": ([list(p) for p in self.path] if self.path
                     else None if self.line is None else [list(self.line[0]), list(self.line[1])]),
            "path": None if self.path is None else [list(p) for p in self.path],
        }


def classify(distance_m: float, threshold_m: float, margin_m: float) -> Verdict:
    """Inclusive threshold with a review band of ±margin_m around it."""
    if margin_m > 0 and abs(distance_m - threshold_m) <= margin_m:
        return Verdict.REVIEW
    return Verdict.PROHIBITED if distance_m <= threshold_m else Verdict.ALLOWED


def _fmt(value: float) -> str:
    return f"{value:.2f} m"


def judge(
    school: SchoolCandidate,
    resolved: ResolvedRule,
    *,
    point: Point,
    door: Point,
    tolerances: Tolerances,
    issued_on: date | None = None,
    fallback_threshold_m: float = 0.0,
    walker: Walker | None = None,
) -> Judgement:
    """Decide one (premises, school, rule) triple from the measured candidate.

    `walker` measures walking distances (spatial.walking.make_walker); without one a walking
    rule whose straight line is inside its distance answers review.
    """
    rule = resolved.rule
    threshold = rule.distance_m
    margin = tolerances.margin_m
    near: Point = (school.near_lon, school.near_lat)
    result = Judgement(school, resolved, rule.metric.value, school.boundary_m, threshold,
                       Verdict.ALLOWED, line=(point, near))
    if threshold is None:
        result.threshold_m = None
        reach = fallback_threshold_m + margin
        result.verdict = Verdict.REVIEW if school.boundary_m <= reach else Verdict.ALLOWED
        result.reasons.append(f"{rule.jurisdiction} has set no distance for {rule.category}; "
                              f"the campus is {_fmt(school.boundary_m)} away")
        return result
    if rule.metric is Metric.BOUNDARY:
        _judge_boundary(result, threshold, tolerances)
    elif rule.metric is Metric.GATE:
        _judge_gate(result, threshold, margin, door)
    else:
        _judge_walking(result, threshold, margin, door, walker)
    if result.verdict is not Verdict.ALLOWED:
        _apply_existing(result, issued_on)
        if resolved.needs_review and result.verdict is Verdict.PROHIBITED:
            result.verdict = Verdict.REVIEW
            result.reasons.extend(resolved.review_reasons)
    return result


def _judge_boundary(result: Judgement, threshold: float, tol: Tolerances) -> None:
    distance = result.school.boundary_m
    if result.school.precision == GeometryPrecision.POINT.value:
        radius = tol.point_school_radius_m
        if distance <= threshold - radius - tol.margin_m:
            result.verdict = Verdict.PROHIBITED
            result.reasons.append(
                f"school known only as a point, {_fmt(distance)} away: inside {threshold:g} m "
                f"by more than the assumed campus radius of {radius:g} m")
        elif distance <= threshold + radius + tol.margin_m:
            result.verdict = Verdict.REVIEW
            result.reasons.append(
                f"school known only as a point, {_fmt(distance)} away; with an assumed campus "
                f"radius of {radius:g} m the boundary may lie either side of {threshold:g} m")
        return
    result.verdict = classify(distance, threshold, tol.margin_m)
    where = "inside the campus" if distance == 0 else f"{_fmt(distance)} from the campus boundary"
    if result.verdict is Verdict.REVIEW:
        result.reasons.append(f"{where}: within measurement margin ({tol.margin_m:g} m) of "
                              f"{threshold:g} m")
    elif result.verdict is Verdict.PROHIBITED:
        result.reasons.append(f"{where}, within {threshold:g} m")


def _judge_gate(result: Judgement, threshold: float, margin: float, door: Point) -> None:
    school = result.school
    if school.gate_m is None or school.gate_lon is None or school.gate_lat is None:
        # A gate is on the campus, so the gate distance is never below the boundary distance.
        if school.boundary_m > threshold + margin:
            result.verdict = Verdict.ALLOWED
        else:
            result.verdict = Verdict.REVIEW
            result.reasons.append(f"no gate is recorded for this school; the campus is "
                                  f"{_fmt(school.boundary_m)} away, the rule measures from "
                                  f"the gate ({threshold:g} m)")
        return
    result.distance_m = school.gate_m
    result.line = (door, (school.gate_lon, school.gate_lat))
    result.verdict = classify(school.gate_m, threshold, margin)
    if result.verdict is Verdict.REVIEW:
        result.reasons.append(f"{_fmt(school.gate_m)} to the nearest gate: within measurement "
                              f"margin ({margin:g} m) of {threshold:g} m")
    elif result.verdict is Verdict.PROHIBITED:
        result.reasons.append(f"{_fmt(school.gate_m)} to the nearest gate, within {threshold:g} m")


def _judge_walking(result: Judgement, threshold: float, margin: float, door: Point,
                   walker: Walker | None) -> None:
    school = result.school
    straight = min(v for v in (school.boundary_m, school.gate_m) if v is not None)
    if straight > threshold + margin:
        # A walked path is never shorter than the straight line.
        result.verdict = Verdict.ALLOWED
        return
    result.distance_m = None
    result.verdict = Verdict.REVIEW
    walked = walker(school, door) if walker is not None else None
    if walked is None or isinstance(walked, WalkFailure):
        why = "not available" if walked is None else f"not measured: {walked.reason}"
        result.reasons.append(f"walking distance {why}; the straight line is "
                              f"{_fmt(straight)}, the rule allows {threshold:g} m walked")
        return
    result.distance_m = walked.distance_m
    result.line = (door, walked.target_point)
    result.path = walked.path
    result.verdict = classify(walked.distance_m, threshold, margin)
    to = ("the nearest gate" if walked.target == "gate" else
          "the campus boundary where a path meets it (no gate is recorded)")
    said = (f"{_fmt(walked.distance_m)} walked to {to}, straight line "
            f"{_fmt(walked.straight_m)} (snaps to the street {_fmt(walked.door_snap_m)} and "
            f"{_fmt(walked.target_snap_m)} included)")
    if result.verdict is Verdict.REVIEW:
        result.reasons.append(f"{said}: within measurement margin ({margin:g} m) of "
                              f"{threshold:g} m")
    elif result.verdict is Verdict.PROHIBITED:
        result.reasons.append(f"{said}, within {threshold:g} m")
    else:
        result.reasons.append(f"{said}: beyond {threshold:g} m walked")


def _apply_existing(result: Judgement, issued_on: date | None) -> None:
    opened = result.school.school_opened_on
    if issued_on is None or opened is None or issued_on >= opened:
        return
    policy = result.rule.rule.existing
    note = f"licensed {issued_on.isoformat()}, before the school opened {opened.isoformat()}"
    if policy is ExistingPolicy.EXEMPT:
        result.verdict = Verdict.ALLOWED
        result.reasons.append(f"{note}: exempt under {result.rule.rule.id}")
    elif policy is ExistingPolicy.REVIEW:
        result.verdict = Verdict.REVIEW
        result.reasons.append(f"{note}: existing premises are reviewed under this rule")
    else:
        result.reasons.append(f"{note}: the rule applies to existing premises too")


def overall(judgements: list[Judgement]) -> Verdict:
    """The screening verdict: the worst of the per-school verdicts."""
    verdicts = {j.verdict for j in judgements}
    for verdict in (Verdict.PROHIBITED, Verdict.REVIEW):
        if verdict in verdicts:
            return verdict
    return Verdict.ALLOWED
