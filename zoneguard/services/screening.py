"""Screening of a licence application: verdict, conflicts, measured lines, stored record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.crs import parse_crs, to_wgs84
from spatial.errors import CrsError
from spatial.measure import SchoolCandidate, schools_near
from spatial.walking import make_walker
from zoneguard import regions
from zoneguard.domain import Verdict
from zoneguard.errors import CrsProblem, Forbidden, ValidationError
from zoneguard.evaluation import (
    Judgement,
    Tolerances,
    entrance_offset_m,
    judge_pair,
    measured_door,
    overall,
    pair_rules,
    reach_m,
    search_radius_m,
)
from zoneguard.labels import DISCLAIMER, category_label, limit, metres, verdict_label
from zoneguard.rules import RuleSet
from zoneguard.scope import Scope
from zoneguard.services.rulesets import current_rule_set, store_rule_set
from zoneguard.services.screening_store import pending_screening, store_screenings
from zoneguard.settings import Settings, local_today

XY = tuple[float, float]


@dataclass
class ScreeningResult:
    """The answer to one application."""

    verdict: Verdict
    category: str
    point: XY
    door: XY
    region: str | None
    on: date
    rule_set_version: str
    conflicts: list[Judgement] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    record_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready result, with the measured lines as a GeoJSON FeatureCollection."""
        conflicts = [c.as_dict() for c in self.conflicts]
        features = [
            {"type": "Feature",
             "geometry": {"type": "LineString", "coordinates": c["line"]},
             "properties": {"school_code": c["school"]["code"], "rule_id": c["rule_id"],
                            "metric": c["metric"], "distance_m": c["distance_m"],
                            "verdict": c["verdict"]}}
            for c in conflicts if c["line"] is not None
        ]
        return {
            "id": self.record_id,
            "verdict": self.verdict.value,
            "category": self.category,
            "location": {"lon": self.point[0], "lat": self.point[1], "crs": "EPSG:4326"},
            "entrance": {"lon": self.door[0], "lat": self.door[1], "crs": "EPSG:4326"},
            "region": self.region,
            "on": self.on.isoformat(),
            "reasons": self.reasons,
            "conflicts": conflicts,
            "lines": {"type": "FeatureCollection", "features": features},
            "rule_set_version": self.rule_set_version,
        }


def _to_wgs84(xy: XY, crs: str, what: str) -> XY:
    try:
        spec = parse_crs(crs)
    except CrsError as exc:
        raise CrsProblem(str(exc)) from None
    if not all(math.isfinite(v) for v in xy):
        raise ValidationError(f"{what}坐标应为有效数字，收到的是（{xy[0]}, {xy[1]}）")
    lon, lat = to_wgs84([xy[0]], [xy[1]], spec)
    out = (float(lon[0]), float(lat[0]))
    if not (-180 <= out[0] <= 180 and -90 <= out[1] <= 90) or not all(map(math.isfinite, out)):
        raise ValidationError(f"{what}坐标（{xy[0]}, {xy[1]}）按坐标系 {spec.name} 换算后"
                              "不是有效的经纬度：请核对坐标和坐标系")
    return out


def _check_entrance(point: XY, door: XY, max_m: float) -> None:
    """Refuse an entrance implausibly far from its premises (it would move the measurement)."""
    distance = entrance_offset_m(point, door)
    if distance > max_m:
        raise ValidationError(f"入口距场所位置 {distance:.1f} 米，超过 {max_m:g} 米上限："
                              "请核对入口坐标（应为同一场所的出入口）")


def judge_around(
    session: Session, rules: RuleSet, cfg: Settings, *, category: str, point: XY, door: XY,
    region: str | None, on: date, issued_on: date | None, scope: Scope | None = None,
    school_id: int | None = None,
) -> list[tuple[SchoolCandidate, list[Judgement]]]:
    """Every school within reach of a premises, judged under the rules of the pair.

    `point` and `door` are EPSG:4326; a scope refuses a place that is not its own;
    `school_id` keeps one school.
    """
    tolerances = Tolerances(cfg.review_margin_m, cfg.point_school_radius_m)
    reach = reach_m(rules, category)
    nearby = schools_near(session, lon=point[0], lat=point[1],
                          radius_m=search_radius_m(rules, category, tolerances), on=on,
                          door=door)
    check_location_in_scope(nearby, scope)
    walker = make_walker(session, max_snap_m=cfg.walking_snap_max_m, reach_m=reach)
    return [(school, judge_pair(
                school, pair_rules(rules, category=category, levels=school.levels,
                                   school_region=school.school_region, premises_region=region,
                                   on=on, enrolment=school.enrolment),
                point=point, door=door, tolerances=tolerances, issued_on=issued_on,
                fallback_threshold_m=reach, walker=walker))
            for school in nearby if school_id is None or school.school_id == school_id]


def screen(
    session: Session,
    *,
    category: str,
    point: XY,
    crs: str = "EPSG:4326",
    region: str | None = None,
    on: date | None = None,
    entrance: XY | None = None,
    issued_on: date | None = None,
    actor: str = "cli",
    store: bool = True,
    settings: Settings,
    rule_set: RuleSet | None = None,
    scope: Scope | None = None,
) -> ScreeningResult:
    """Screen an application of `category` at `point` (in `crs`) against the rules in force.

    A caller's `scope` applies here: no region given means the scope's own; a category or
    region beyond it is refused (Forbidden) before anything is measured.
    """
    cfg = settings
    rules = rule_set or current_rule_set(cfg)
    rules.check_category(category)
    if scope is not None:
        region, _ = scope.narrow(region, [category])
    if region is not None:
        regions.check(region)
    day = on or local_today(cfg.timezone)
    pt = _to_wgs84(point, crs, "场所位置")
    door = _to_wgs84(entrance, crs, "入口") if entrance is not None else pt
    _check_entrance(pt, door, cfg.max_entrance_m)
    reach = reach_m(rules, category)
    result = ScreeningResult(Verdict.ALLOWED, category, pt, door, region, day, rules.version)
    unprotected = []
    for school, judged in judge_around(session, rules, cfg, category=category, point=pt,
                                       door=door, region=region, on=day, issued_on=issued_on,
                                       scope=scope):
        if not judged and school.nearest_boundary_m <= reach:
            unprotected.append(school)
        result.conflicts.extend(j for j in judged if j.verdict is not Verdict.ALLOWED)
    result.verdict = overall(result.conflicts)
    label = category_label(category)
    if not result.conflicts:
        result.reasons.append(f"{limit(reach)}范围内未发现受{label}距离规则保护的学校")
    else:
        result.reasons.extend(
            f"{c.school.school_name}：{verdict_label(c.verdict)}（{c.rule.rule.id}）"
            + (f"——{'；'.join(c.reasons)}" if c.reasons else "")
            for c in result.conflicts
        )
    result.reasons.extend(
        f"{s.school_name}距场所 {metres(s.nearest_boundary_m)}，当地对{label}与该类学校"
        "无适用的距离规则" for s in unprotected)
    result.reasons.append(DISCLAIMER)
    if store:
        _store(session, result, rules=rules, actor=actor, crs=crs, point=point, entrance=entrance)
    return result


def _store(session: Session, result: ScreeningResult, *, rules: RuleSet, actor: str, crs: str,
           point: XY, entrance: XY | None) -> None:
    store_rule_set(session, rules)
    store_screenings(session, [pending_screening(result, rules=rules, actor=actor, crs=crs,
                                                 point=point, entrance=entrance)])


def remeasure(session: Session, *, premises_id: int, school_id: int, rule_id: str,
              settings: Settings, rule_set: RuleSet | None = None) -> Verdict | None:
    """The verdict of one stored (premises, school, rule) now, on the screening path.

    None when the school is out of reach or the rule no longer protects it.
    """
    rules = rule_set or current_rule_set(settings)
    row = session.execute(text(
        "SELECT category, region, issued_on, ST_X(location) AS lon, ST_Y(location) AS lat, "
        "ST_X(entrance) AS elon, ST_Y(entrance) AS elat FROM premises WHERE id = :id"),
        {"id": premises_id}).first()
    if row is None:
        return None
    point = (row.lon, row.lat)
    door = measured_door(point, None if row.elon is None else (row.elon, row.elat),
                         settings.max_entrance_m)
    for _, judged in judge_around(session, rules, settings, category=row.category, point=point,
                                  door=door, region=row.region, on=local_today(settings.timezone),
                                  issued_on=row.issued_on, school_id=school_id):
        for judgement in judged:
            if judgement.rule.rule.id == rule_id:
                return judgement.verdict
    return None


def check_location_in_scope(schools: list[SchoolCandidate], scope: Scope | None) -> None:
    """Refuse a place whose every nearby school lies outside the caller's region.

    A bureau screens and registers premises in its own jurisdiction: near a border its own
    schools and the neighbour's both count (and are shown), but a place where no nearby school
    is its own belongs to another office (403, nothing measured is shown or stored).
    """
    if scope is None or scope.region_prefix is None or not schools:
        return
    if any(scope.allows_region(s.school_region) for s in schools):
        return
    nearest = min(schools, key=lambda s: s.nearest_boundary_m)
    raise Forbidden(f"该位置周边的学校均不在您的辖区（{regions.labelled(scope.region_prefix)}）"
                    f"内，最近的学校属于{regions.full_name(nearest.school_region)}：请由属地部门办理")
