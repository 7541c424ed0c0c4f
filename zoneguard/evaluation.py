"""The one evaluation path: how far to look, which rules apply, and the verdict of a pair.

Screening, scans, the school sheet and map, the city and permitted maps and the OGC zones
all ask this module: which rules protect a school against a category (`pair_rules`), how
far from a campus a premises can still be anything but allowed (`reach_m`), the verdict of
one (premises, school) pair under those rules (`judge_pair`), and which distances to draw
around a school (`zone_distances`). Nothing here touches the database: distances come
measured (`spatial.measure.SchoolCandidate`), walks from a `Walker`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from spatial.crs import wgs84_geod
from spatial.measure import SchoolCandidate
from spatial.walking import Walker, WalkFailure
from zoneguard.domain import ExistingPolicy, GeometryPrecision, Metric, Verdict
from zoneguard.labels import category_label, limit, metres
from zoneguard.rules import ResolvedRule, Rule, RuleSet, region_chain

Point = tuple[float, float]
DEFAULT_REACH_M = 200.0  # how far a category looks when no rule of it sets any distance
_ORDER = {Verdict.PROHIBITED: 0, Verdict.REVIEW: 1, Verdict.ALLOWED: 2}


@dataclass(frozen=True)
class Tolerances:
    """Settings that shape a verdict."""

    margin_m: float
    point_school_radius_m: float


def reach_m(rules: RuleSet, category: str | None = None) -> float:
    """Metres from a campus within which some rule (of a category) can answer non-allowed."""
    return rules.max_distance_m(category) or DEFAULT_REACH_M


def search_radius_m(rules: RuleSet, category: str | None, tolerances: Tolerances) -> float:
    """Radius (m) to look for schools around a premises: reach, margin, point-school radius."""
    return (reach_m(rules, category) + tolerances.margin_m + tolerances.point_school_radius_m
            + 1.0)


def entrance_offset_m(point: Point, door: Point) -> float:
    """Geodesic metres (WGS 84) between a premises point and its entrance."""
    if point == door:
        return 0.0
    return float(wgs84_geod().inv(point[0], point[1], door[0], door[1])[2])


def measured_door(point: Point, door: Point | None, max_entrance_m: float) -> Point:
    """The door to measure from: the entrance, unless absent or implausibly far (the point)."""
    if door is None or entrance_offset_m(point, door) > max_entrance_m:
        return point
    return door


class PairRule(NamedTuple):
    """A rule resolved for a pair, and the reason it applies when it is not the school's own."""

    resolved: ResolvedRule
    note: str | None


def pair_rules(rules: RuleSet, *, category: str, levels: Sequence[str], school_region: str | None,
               premises_region: str | None, on: date, enrolment: int | None) -> list[PairRule]:
    """The rules protecting a school against a category, from both regions of the pair.

    Rules resolve for the school's region and the premises' region: when the two are
    different places both apply, so a declared region never loosens a verdict.
    """
    regions = [school_region or premises_region]
    if premises_region and school_region and _different_places(school_region, premises_region):
        regions.append(premises_region)
    found: dict[str, PairRule] = {}
    for index, region in enumerate(regions):
        for resolved in rules.applicable(category=category, levels=levels, region=region,
                                         on=on, enrolment=enrolment):
            if resolved.rule.id in found:
                continue
            note = None
            if index:
                area = rules.area_name(resolved.rule.jurisdiction)
                note = (f"学校所在区划 {school_region} 与场所区划 {premises_region} 不同，"
                        f"两地规则均予适用，从严判定（本条为{area}规则）")
            found[resolved.rule.id] = PairRule(resolved, note)
    return [found[key] for key in sorted(found)]


def _different_places(a: str, b: str) -> bool:
    """Two region codes name different places unless one contains the other."""
    chain_a, chain_b = region_chain(a), region_chain(b)
    return not (chain_a[0] in chain_b or chain_b[0] in chain_a)


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
    existing: bool = False  # 存量: lawfully licensed before the school or the rule

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description of the conflict (for responses and stored records)."""
        rule = self.rule.rule
        return {
            "school": {"id": self.school.school_id, "code": self.school.school_code,
                       "name": self.school.school_name, "levels": list(self.school.levels),
                       "precision": self.school.precision},
            "rule_id": rule.id,
            "jurisdiction": rule.jurisdiction,
            "area": rule.area or rule.jurisdiction,
            "category": rule.category,
            "metric": self.metric,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
            "boundary_m": round(self.school.nearest_boundary_m, 2),
            "threshold_m": self.threshold_m,
            "inclusive": rule.inclusive,
            "statutory": rule.statutory,
            "verdict": self.verdict.value,
            "existing": self.existing,
            "reasons": self.reasons,
            "basis": rule.basis,
            "citations": rule.public()["citations"],
            "line": ([list(p) for p in self.path] if self.path
                     else None if self.line is None else [list(self.line[0]), list(self.line[1])]),
            "path": None if self.path is None else [list(p) for p in self.path],
        }


def classify(distance_m: float, threshold_m: float, margin_m: float,
             inclusive: bool = True) -> Verdict:
    """Inside the threshold (`<=`, or `<` when it is exclusive), with a ±margin review band."""
    if margin_m > 0 and abs(distance_m - threshold_m) <= margin_m:
        return Verdict.REVIEW
    inside = distance_m <= threshold_m if inclusive else distance_m < threshold_m
    return Verdict.PROHIBITED if inside else Verdict.ALLOWED


def _within(rule: Rule, threshold: float) -> str:
    return f"在 {limit(threshold)}{'以内' if rule.inclusive else '（不含）以内'}"


def judge(
    school: SchoolCandidate,
    resolved: ResolvedRule,
    *,
    point: Point,
    door: Point,
    tolerances: Tolerances,
    issued_on: date | None = None,
    fallback_threshold_m: float = DEFAULT_REACH_M,
    walker: Walker | None = None,
) -> Judgement:
    """Decide one (premises, school, rule) triple from the measured candidate.

    `walker` measures walking distances (spatial.walking.make_walker); without one a walking
    rule whose straight line is inside its distance answers review. A rule without a distance
    sends premises within its `review_within_m` (else `fallback_threshold_m`) to review.
    """
    rule = resolved.rule
    threshold = rule.distance_m
    boundary = school.nearest_boundary_m
    result = Judgement(school, resolved, rule.metric.value, boundary, threshold,
                       Verdict.ALLOWED, line=_boundary_line(school, point, door))
    if threshold is None:
        reach = rule.review_within_m or fallback_threshold_m
        inside = boundary <= reach + tolerances.margin_m
        if school.precision == GeometryPrecision.POINT.value:
            inside = boundary <= reach + tolerances.margin_m + tolerances.point_school_radius_m
        if inside:
            result.verdict = Verdict.REVIEW
            result.reasons.append(
                f"法律禁止在学校周边设置{category_label(rule.category)}但未规定具体距离："
                f"场所距校园 {metres(boundary)}，在 {limit(reach)} 复核范围内，需现场核实")
        return result
    if rule.metric is Metric.BOUNDARY:
        result.verdict, reason = _boundary_outcome(school, boundary, rule, threshold, tolerances)
        result.reasons.extend(reason)
    elif rule.metric is Metric.GATE:
        _judge_gate(result, threshold, tolerances, door)
    else:
        _judge_walking(result, threshold, tolerances, door, walker)
    if result.verdict is Verdict.ALLOWED and rule.metric is not Metric.BOUNDARY:
        _check_boundary_too(result, threshold, tolerances)
    if result.verdict is not Verdict.ALLOWED:
        _apply_existing(result, issued_on)
    if result.verdict is Verdict.PROHIBITED and resolved.needs_review:
        result.verdict = Verdict.REVIEW
        result.reasons.extend(resolved.review_reasons)
    if result.verdict is Verdict.PROHIBITED and not rule.statutory:
        result.verdict = Verdict.REVIEW
        result.reasons.append(f"本地未规定该类场所的距离：按默认 {limit(threshold)}初筛，"
                              "非法定距离，需复核")
    return result


def _boundary_line(school: SchoolCandidate, point: Point, door: Point) -> tuple[Point, Point]:
    """The measured line to the campus from the nearer of the point and the door."""
    if (school.door_boundary_m is not None and school.door_boundary_m < school.boundary_m
            and school.door_near_lon is not None and school.door_near_lat is not None):
        return (door, (school.door_near_lon, school.door_near_lat))
    return (point, (school.near_lon, school.near_lat))


def _boundary_outcome(school: SchoolCandidate, distance: float, rule: Rule, threshold: float,
                      tol: Tolerances) -> tuple[Verdict, list[str]]:
    """The boundary verdict and its reason (a point-only school has an assumed radius)."""
    if school.precision == GeometryPrecision.POINT.value:
        radius = tol.point_school_radius_m
        if distance <= threshold - radius - tol.margin_m:
            return Verdict.PROHIBITED, [
                f"学校仅有位置点，场所距该点 {metres(distance)}：即使按 {limit(radius)} "
                f"的校园半径估计，仍{_within(rule, threshold)}"]
        if distance <= threshold + radius + tol.margin_m:
            return Verdict.REVIEW, [
                f"学校仅有位置点，场所距该点 {metres(distance)}：按 {limit(radius)} "
                f"的校园半径估计，校园边界可能在 {limit(threshold)} 内外，需复核"]
        return Verdict.ALLOWED, []
    verdict = classify(distance, threshold, tol.margin_m, rule.inclusive)
    where = "场所位于校园内" if distance == 0 else f"距校园边界 {metres(distance)}"
    if verdict is Verdict.REVIEW:
        return verdict, [f"{where}：与规定距离 {limit(threshold)} 相差不超过测量误差 "
                         f"{limit(tol.margin_m)}，需现场复核"]
    if verdict is Verdict.PROHIBITED:
        return verdict, [f"{where}，{_within(rule, threshold)}"]
    return verdict, []


def _judge_gate(result: Judgement, threshold: float, tol: Tolerances, door: Point) -> None:
    school, rule = result.school, result.rule.rule
    if school.gate_m is None or school.gate_lon is None or school.gate_lat is None:
        # A gate is on the campus, so the gate distance is never below the boundary distance.
        if result.distance_m is not None and result.distance_m > threshold + tol.margin_m:
            result.verdict = Verdict.ALLOWED
        else:
            result.verdict = Verdict.REVIEW
            result.reasons.append(f"该校未登记校门；场所距校园 {metres(result.distance_m)}，"
                                  f"本规则自校门起算（{limit(threshold)}），需现场核实")
        return
    result.distance_m = school.gate_m
    result.line = (door, (school.gate_lon, school.gate_lat))
    result.verdict = classify(school.gate_m, threshold, tol.margin_m, rule.inclusive)
    said = f"距最近校门 {metres(school.gate_m)}"
    if result.verdict is Verdict.REVIEW:
        result.reasons.append(f"{said}：与规定距离 {limit(threshold)} 相差不超过测量误差 "
                              f"{limit(tol.margin_m)}，需现场复核")
    elif result.verdict is Verdict.PROHIBITED:
        result.reasons.append(f"{said}，{_within(rule, threshold)}")


def _judge_walking(result: Judgement, threshold: float, tol: Tolerances, door: Point,
                   walker: Walker | None) -> None:
    school, rule = result.school, result.rule.rule
    straight = min(v for v in (school.nearest_boundary_m, school.gate_m) if v is not None)
    if straight > threshold + tol.margin_m:
        # A walked path is never shorter than the straight line.
        result.verdict = Verdict.ALLOWED
        return
    result.distance_m = None
    result.verdict = Verdict.REVIEW
    walked = walker(school, door) if walker is not None else None
    if walked is None or isinstance(walked, WalkFailure):
        why = "无法计算" if walked is None else f"未能测得（{walked.reason}）"
        result.reasons.append(f"步行距离{why}；直线距离 {metres(straight)}，"
                              f"本规则按步行距离 {limit(threshold)} 判定，需现场测量")
        return
    result.distance_m = walked.distance_m
    result.line = (door, walked.target_point)
    result.path = walked.path
    result.verdict = classify(walked.distance_m, threshold, tol.margin_m, rule.inclusive)
    gate = walked.target == "gate"
    to = "最近校门" if gate else "校园边界（该校未登记校门）"
    said = (f"步行至{to} {metres(walked.distance_m)}（直线 {metres(walked.straight_m)}，"
            f"含入口至道路 {metres(walked.door_snap_m)}、道路至{'校门' if gate else '校园'} "
            f"{metres(walked.target_snap_m)}）")
    if result.verdict is Verdict.REVIEW:
        result.reasons.append(f"{said}：与规定距离 {limit(threshold)} 相差不超过测量误差 "
                              f"{limit(tol.margin_m)}，需现场复核")
    elif result.verdict is Verdict.PROHIBITED:
        result.reasons.append(f"{said}，{_within(rule, threshold)}")
    else:
        result.reasons.append(f"{said}：超出 {limit(threshold)}")


def _check_boundary_too(result: Judgement, threshold: float, tol: Tolerances) -> None:
    """A gate or walking rule beyond its distance while the campus itself is within it."""
    school, rule = result.school, result.rule.rule
    boundary = school.nearest_boundary_m
    verdict, _ = _boundary_outcome(school, boundary, rule, threshold, tol)
    if verdict is Verdict.ALLOWED:
        return
    own = "步行" if rule.metric is Metric.WALKING else "至最近校门"
    measured = "—" if result.distance_m is None else metres(result.distance_m)
    result.reasons.append(
        f"按本规则{own}测得 {measured}，超出 {limit(threshold)}；但场所距校园边界仅 "
        f"{metres(boundary)}（校门未登记完整或需绕行）：两种测量结果不一致，需现场复核")
    result.verdict = Verdict.REVIEW


def _apply_existing(result: Judgement, issued_on: date | None) -> None:
    """存量: a licence issued before the school opened or before the rule took effect."""
    if issued_on is None:
        return
    rule = result.rule.rule
    opened = result.school.school_opened_on
    why = []
    if opened is not None and issued_on < opened:
        why.append(f"早于学校设立（{opened.isoformat()}）")
    if issued_on < rule.effective_from:
        why.append(f"早于本规则施行（{rule.effective_from.isoformat()}）")
    if not why:
        return
    note = f"许可证核发于 {issued_on.isoformat()}，" + "、".join(why)
    if rule.existing is ExistingPolicy.EXEMPT:
        result.verdict = Verdict.ALLOWED
        result.reasons.append(f"{note}：本规则不适用于既有场所")
    elif rule.existing is ExistingPolicy.REVIEW:
        result.verdict = Verdict.REVIEW
        result.existing = True
        result.reasons.append(f"{note}：属存量场所，依法保留至许可期满，期满不予延续"
                              "（信赖保护，《中华人民共和国行政许可法》第八条）")
    else:
        result.reasons.append(f"{note}：本规则同样适用于既有场所")


def judge_pair(
    school: SchoolCandidate,
    rules: Iterable[PairRule],
    *,
    point: Point,
    door: Point,
    tolerances: Tolerances,
    issued_on: date | None = None,
    fallback_threshold_m: float = DEFAULT_REACH_M,
    walker: Walker | None = None,
) -> list[Judgement]:
    """Judge one (premises, school) pair under each of its rules (`pair_rules`)."""
    found = []
    for resolved, note in rules:
        judged = judge(school, resolved, point=point, door=door, tolerances=tolerances,
                       issued_on=issued_on, fallback_threshold_m=fallback_threshold_m,
                       walker=walker)
        if note and judged.verdict is not Verdict.ALLOWED:
            judged.reasons.append(note)
        found.append(judged)
    return found


def overall(judgements: Iterable[Judgement]) -> Verdict:
    """The worst verdict of some judgements (allowed when there are none)."""
    return min((j.verdict for j in judgements), key=_ORDER.__getitem__, default=Verdict.ALLOWED)


def worst(judgements: Sequence[Judgement]) -> Judgement | None:
    """The most serious judgement (prohibited, then review, then the nearest allowed)."""
    return min(judgements, default=None,
               key=lambda j: (_ORDER[j.verdict], j.distance_m if j.distance_m is not None
                              else j.school.nearest_boundary_m))


class ZoneDistance(NamedTuple):
    """One distance drawn around a school: the rule and category it is drawn for."""

    distance_m: float
    category: str
    rule_id: str
    statutory: bool


def zone_distances(rules: RuleSet, *, categories: Iterable[str], levels: Sequence[str],
                   region: str | None, on: date, enrolment: int | None) -> list[ZoneDistance]:
    """The distances to draw around a school for some categories, in its own region.

    A rule without a distance is drawn at its review radius.
    """
    found = []
    for category in sorted(set(categories)):
        for resolved in rules.applicable(category=category, levels=levels, region=region,
                                         on=on, enrolment=enrolment):
            rule = resolved.rule
            distance = rule.distance_m if rule.distance_m is not None else (
                rule.review_within_m or reach_m(rules, category))
            found.append(ZoneDistance(float(distance), category, rule.id, rule.statutory))
    return found
