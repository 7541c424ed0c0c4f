"""Every premises within reach of one school, measured and judged on the screening path.

Distances come from `spatial.measure.schools_near` and verdicts from `evaluation`, exactly
as a screening of that premises would compute them; stored findings add their case state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.measure import schools_near
from spatial.walking import make_walker
from zoneguard.domain import HIDDEN_STATUSES
from zoneguard.errors import NotFound
from zoneguard.evaluation import (
    Judgement,
    Tolerances,
    judge_pair,
    measured_door,
    pair_rules,
    search_radius_m,
)
from zoneguard.evaluation import reach_m as rule_reach_m
from zoneguard.rules import RuleSet
from zoneguard.scope import Scope
from zoneguard.settings import Settings

_SCHOOL = """
SELECT s.id, s.code, s.name, s.levels, s.enrolment, s.region, s.address, s.precision,
       s.opened_on, s.closed_on, s.source, s.updated_at,
       ST_AsGeoJSON(COALESCE(s.boundary, s.location), 7) AS geometry,
       ST_X(s.location) AS lon, ST_Y(s.location) AS lat,
       (SELECT count(*) FROM school_gate g WHERE g.school_id = s.id) AS gates
FROM school s WHERE s.code = :code
"""

_CANDIDATES = """
SELECT p.id, p.category, p.licence_no, p.name, p.address, p.operator, p.status, p.region,
       p.issued_on, ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       ST_X(p.entrance) AS entrance_lon, ST_Y(p.entrance) AS entrance_lat
FROM school s JOIN premises p
  ON ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location), :reach, true)
WHERE s.id = :sid AND p.status <> ALL(CAST(:hidden AS text[]))
  AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
  AND (CAST(:region AS text) IS NULL OR starts_with(p.region, CAST(:region AS text)))
ORDER BY ST_Distance(geography(COALESCE(s.boundary, s.location)), geography(p.location), true),
         p.id
"""

_FINDINGS = """
SELECT f.id, f.premises_id, f.rule_id, f.verdict, f.state, f.assignee, f.deadline,
       f.distance_m, f.first_seen,
       zg_finding_seen(f.state, f.last_seen, f.last_scan_id, f.premises_id) AS last_seen
FROM finding f WHERE f.school_id = :sid AND f.premises_id = ANY(CAST(:ids AS bigint[]))
"""


@dataclass
class Nearby:
    """One premises near the school: its row, a judgement per applicable rule, its findings."""

    premises: dict[str, Any]
    judgements: list[Judgement] = field(default_factory=list)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def door(self) -> tuple[float, float]:
        """The entrance (or the point) the distances are measured from, EPSG:4326."""
        p = self.premises
        if p["entrance_lon"] is not None:
            return (p["entrance_lon"], p["entrance_lat"])
        return (p["lon"], p["lat"])


def school_by_code(session: Session, code: str, scope: Scope | None = None) -> dict[str, Any]:
    """The school with this code, GeoJSON geometry (NotFound if none or outside `scope`)."""
    row = session.execute(text(_SCHOOL), {"code": code}).mappings().first()
    if row is None or (scope is not None and not scope.allows_region(row["region"])):
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"学校代码为「{code}」的学校不存在{outside}")
    out = dict(row)
    out["geometry"] = json.loads(out["geometry"])
    return out


def reach_m(rule_set: RuleSet, settings: Settings, categories: Sequence[str] | None) -> float:
    """How far from a campus a premises can still be judged anything but allowed (metres)."""
    cats = categories if categories is not None else sorted(rule_set.categories())
    tolerances = Tolerances(settings.review_margin_m, settings.point_school_radius_m)
    return max((search_radius_m(rule_set, c, tolerances) for c in cats),
               default=search_radius_m(rule_set, None, tolerances))


def premises_near(
    session: Session, school: dict[str, Any], *, rule_set: RuleSet, settings: Settings,
    on: date, categories: Sequence[str] | None = None, region: str | None = None,
) -> list[Nearby]:
    """Premises within reach of the school, nearest first, each judged under its rules."""
    reach = reach_m(rule_set, settings, categories)
    rows = session.execute(text(_CANDIDATES), {
        "sid": school["id"], "reach": reach, "hidden": list(HIDDEN_STATUSES), "region": region,
        "categories": None if categories is None else list(categories)}).mappings().all()
    found = [Nearby(dict(row)) for row in rows]
    for item in found:  # an implausibly far entrance is not measured from (as in scans)
        p = item.premises
        if p["entrance_lon"] is not None and measured_door(
                (p["lon"], p["lat"]), (p["entrance_lon"], p["entrance_lat"]),
                settings.max_entrance_m) == (p["lon"], p["lat"]):
            p["entrance_lon"] = p["entrance_lat"] = None
    tolerances = Tolerances(settings.review_margin_m, settings.point_school_radius_m)
    walker = make_walker(session, max_snap_m=settings.walking_snap_max_m,
                         reach_m=rule_reach_m(rule_set))
    for item in found:
        p = item.premises
        candidate = next((c for c in schools_near(session, lon=p["lon"], lat=p["lat"],
                                                  radius_m=reach, on=on, door=item.door)
                          if c.school_id == school["id"]), None)
        if candidate is None:
            continue
        applying = pair_rules(rule_set, category=p["category"], levels=candidate.levels,
                              school_region=candidate.school_region,
                              premises_region=p["region"], on=on,
                              enrolment=candidate.enrolment)
        item.judgements.extend(judge_pair(
            candidate, applying, point=(p["lon"], p["lat"]), door=item.door,
            tolerances=tolerances, issued_on=p["issued_on"],
            fallback_threshold_m=rule_reach_m(rule_set, p["category"]), walker=walker))
    if found:
        by_id = {item.premises["id"]: item for item in found}
        for row in session.execute(text(_FINDINGS), {"sid": school["id"],
                                                     "ids": list(by_id)}).mappings():
            by_id[row["premises_id"]].findings[row["rule_id"]] = dict(row)
    return found
