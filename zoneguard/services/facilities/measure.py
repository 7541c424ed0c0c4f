"""Which required facilities a school has: geodesic (geography) counts around campus and gates.

One owner of the question "does school S meet requirement R": the check that writes
findings, the coverage indicators, the risk grade and the school map all call `assess`.
Distances are measured on the WGS 84 ellipsoid (geography `ST_DWithin`, never planar); a
camera covers a gate when the geodesic bearing from the camera to the gate lies within
direction ± fov/2 (pyproj.Geod) and the gate is within the requirement's distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.facility_kinds import kind_name
from zoneguard.requirements import Per, Requirement
from zoneguard.rules import RuleSet

_GEOD = Geod(ellps="WGS84")
GATE_NAMES = {"main": "正门", "side": "侧门", "back": "后门", "other": "校门"}

_SCHOOLS = """
SELECT s.id, s.code, s.name, s.region, s.levels
FROM school s
WHERE (s.closed_on IS NULL OR s.closed_on > :on)
  AND (CAST(:region AS text) IS NULL OR s.region LIKE CAST(:region AS text) || '%')
  AND (CAST(:ids AS bigint[]) IS NULL OR s.id = ANY(CAST(:ids AS bigint[])))
ORDER BY s.id
"""

# Targets of a requirement: the campus, or gates (main gates only for main_gate); a school
# without such a gate is measured from its campus. Facilities within d of each target.
_TARGETS = """
WITH t AS (
    SELECT s.id AS school_id, NULL::bigint AS gate_id, NULL::text AS gate_kind,
           NULL::text AS gate_name, COALESCE(s.boundary, s.location) AS geom,
           ST_PointOnSurface(COALESCE(s.boundary, s.location)) AS pt
    FROM school s
    WHERE s.id = ANY(CAST(:ids AS bigint[]))
      AND (:per = 'school' OR NOT EXISTS (
            SELECT 1 FROM school_gate g WHERE g.school_id = s.id
              AND (:per = 'each_gate' OR g.kind = 'main')))
    UNION ALL
    SELECT g.school_id, g.id, g.kind, g.name, g.location, g.location
    FROM school_gate g
    WHERE :per <> 'school' AND g.school_id = ANY(CAST(:ids AS bigint[]))
      AND (:per = 'each_gate' OR g.kind = 'main')
)
SELECT t.school_id, t.gate_id, t.gate_kind, t.gate_name, ST_X(t.pt) AS lon, ST_Y(t.pt) AS lat,
       COALESCE(near.items, '[]'::jsonb) AS near
FROM t
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_array(f.id, ST_X(f.location), ST_Y(f.location),
                                       f.direction_deg, f.fov_deg) ORDER BY f.id) AS items
    FROM facility f
    WHERE f.kind = :kind AND f.status = 'active'
      AND ST_DWithin(geography(f.location), geography(t.geom), :d, true)
) near ON true
ORDER BY t.school_id, t.gate_id NULLS FIRST
"""


@dataclass(frozen=True)
class Target:
    """One place a requirement is measured from (campus or gate) and what lies near it."""

    gate_id: int | None
    label: str  # 正门, 侧门（东门）, 学校
    lon: float
    lat: float
    found: int  # facilities of the kind that count (cameras: covering the gate)
    nearby: int  # facilities of the kind within the distance, counting or not

    def met(self, count: int) -> bool:
        """Tell whether enough facilities count here."""
        return self.found >= count


@dataclass(frozen=True)
class Assessment:
    """A school against one requirement: its targets and whether every one is met."""

    school_id: int
    requirement: Requirement
    targets: tuple[Target, ...]

    @property
    def met(self) -> bool:
        """Tell whether every target has enough facilities."""
        return all(t.met(self.requirement.count) for t in self.targets)

    @property
    def missing(self) -> list[Target]:
        """The targets that lack facilities."""
        return [t for t in self.targets if not t.met(self.requirement.count)]

    def reasons(self) -> list[str]:
        """Why the school misses the requirement, in Chinese, one line per target."""
        return [miss_reason(self.requirement, t) for t in self.missing]


@dataclass
class SchoolFacts:
    """An open school and the requirements binding it."""

    id: int
    code: str
    name: str
    region: str | None
    levels: list[str]
    assessments: list[Assessment] = field(default_factory=list)


def miss_reason(requirement: Requirement, target: Target) -> str:
    """One Chinese reason: "正门 150 米内无交通标志"."""
    name, d = kind_name(requirement.kind), f"{requirement.within_m:g}"
    if requirement.camera_covers_gate:
        head = f"{target.label} {d} 米内无覆盖该门的{name}"
        if target.nearby > target.found:
            head += f"（{target.nearby} 个{name}在范围内但视野未覆盖校门）"
        return head
    if target.found == 0:
        return f"{target.label} {d} 米内无{name}"
    return f"{target.label} {d} 米内{name} {target.found} 个，少于要求的 {requirement.count} 个"


def covers(camera_lon: float, camera_lat: float, direction_deg: float | None,
           fov_deg: float | None, gate_lon: float, gate_lat: float) -> bool:
    """Tell whether a gate lies in a camera's field of view (geodesic bearing, WGS 84)."""
    if direction_deg is None or fov_deg is None:
        return False  # a camera of unknown direction is not known to cover anything
    if fov_deg >= 360:
        return True
    bearing, _, distance = _GEOD.inv(camera_lon, camera_lat, gate_lon, gate_lat)
    if distance < 0.5:  # the camera stands at the gate
        return True
    off = abs((bearing - direction_deg + 180.0) % 360.0 - 180.0)
    return bool(off <= fov_deg / 2.0)


def _label(kind: str | None, name: str | None, gate_id: int | None) -> str:
    if gate_id is None:
        return "学校"
    base = GATE_NAMES.get(kind or "other", "校门")
    return f"{base}（{name}）" if name and name != base else base


def _target(row: Any, requirement: Requirement) -> Target:
    near = list(row.near)
    found = len(near)
    if requirement.camera_covers_gate:
        found = sum(covers(x, y, direction, fov, row.lon, row.lat)
                    for _, x, y, direction, fov in near)
    label = _label(row.gate_kind, row.gate_name, row.gate_id)
    return Target(row.gate_id, label, float(row.lon), float(row.lat), found, len(near))


def applies(requirement: Requirement, levels: Sequence[str]) -> bool:
    """Tell whether a requirement protects a school of these levels."""
    return any(level in levels for level in requirement.protects)


def assess(session: Session, *, rules: RuleSet, on: date, region: str | None = None,
           school_ids: Sequence[int] | None = None) -> list[SchoolFacts]:
    """Every open school (of a region) with its assessment against each binding requirement."""
    rows = session.execute(text(_SCHOOLS), {"on": on, "region": region,
                                            "ids": None if school_ids is None
                                            else list(school_ids)}).all()
    schools = {r.id: SchoolFacts(r.id, r.code, r.name, r.region, list(r.levels)) for r in rows}
    wanted: dict[str, tuple[Requirement, list[int]]] = {}
    for school in schools.values():
        for requirement in rules.requirements_in_force(school.region, on):
            if applies(requirement, school.levels):
                wanted.setdefault(requirement.id, (requirement, []))[1].append(school.id)
    for requirement, ids in wanted.values():
        targets: dict[int, list[Target]] = {}
        for row in session.execute(text(_TARGETS), {
                "ids": ids, "per": requirement.per.value, "kind": requirement.kind,
                "d": requirement.within_m}):
            targets.setdefault(row.school_id, []).append(_target(row, requirement))
        for school_id in ids:
            schools[school_id].assessments.append(
                Assessment(school_id, requirement, tuple(targets.get(school_id, ()))))
    for school in schools.values():
        school.assessments.sort(key=lambda a: a.requirement.id)
    return list(schools.values())


__all__ = ["Assessment", "Per", "SchoolFacts", "Target", "applies", "assess", "covers",
           "miss_reason"]
