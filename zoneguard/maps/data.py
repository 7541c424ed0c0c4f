"""Read queries behind the maps: schools, gates, premises with their worst finding, lines, zones.

Zones are geography buffers (`ST_Buffer(geography(...), d)`) in metres, for drawing only:
verdicts come from distance predicates in screening and scans, never from these polygons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard import domain
from zoneguard.evaluation import zone_distances
from zoneguard.rules import RuleSet

ACTIVE_STATES = tuple(s.value for s in domain.ACTIVE_STATES)
HIDDEN_STATUSES = domain.HIDDEN_STATUSES
BBox = tuple[float, float, float, float]

_SCHOOLS = """
SELECT s.id, s.code, s.name, s.levels, s.enrolment, s.region, s.address, s.precision,
       ST_AsGeoJSON(COALESCE(s.boundary, s.location), 7) AS geometry,
       ST_X(s.location) AS lon, ST_Y(s.location) AS lat
FROM school s
WHERE (CAST(:region AS text) IS NULL OR starts_with(s.region, CAST(:region AS text)))
  AND (CAST(:ids AS bigint[]) IS NULL OR s.id = ANY(CAST(:ids AS bigint[])))
  AND (s.closed_on IS NULL OR s.closed_on > :on)
ORDER BY s.id
"""

_GATES = """
SELECT g.id, g.school_id, g.kind, g.name, ST_X(g.location) AS lon, ST_Y(g.location) AS lat
FROM school_gate g WHERE g.school_id = ANY(CAST(:ids AS bigint[])) ORDER BY g.id
"""

# The premises' most serious finding that is not resolved: active states first, then verdict.
WORST_FINDING = f"""
LEFT JOIN LATERAL (
    SELECT f.id AS finding_id, f.verdict, f.state, f.distance_m, f.rule_id, f.metric,
           fs.name AS school_name
    FROM finding f JOIN school fs ON fs.id = f.school_id
    WHERE f.premises_id = p.id AND f.state <> 'resolved'
    ORDER BY (f.state NOT IN {domain.sql_list(domain.ACTIVE_STATES)}),
             (f.verdict <> 'prohibited'),
             f.distance_m NULLS LAST, f.id
    LIMIT 1
) w ON true
"""

PREMISES_FILTER = """
(CAST(:region AS text) IS NULL OR starts_with(p.region, CAST(:region AS text)))
AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
AND p.status <> ALL(CAST(:hidden AS text[]))
"""

_PREMISES = f"""
SELECT p.id, p.category, p.licence_no, p.name, p.address, p.status, p.region,
       ST_X(p.location) AS lon, ST_Y(p.location) AS lat, w.*
FROM premises p
{WORST_FINDING}
WHERE {PREMISES_FILTER}
  AND (CAST(:ids AS bigint[]) IS NULL OR p.id = ANY(CAST(:ids AS bigint[])))
  AND (NOT :flagged OR w.finding_id IS NOT NULL)
ORDER BY p.id
LIMIT :limit
"""

_COUNT = f"SELECT count(*) FROM premises p WHERE {PREMISES_FILTER}"

_LINES = """
SELECT f.id, f.verdict, f.state, f.metric, f.distance_m, f.threshold_m, f.rule_id,
       f.school_id, f.premises_id, p.name AS premises_name, p.category, s.name AS school_name,
       ST_AsGeoJSON(f.line, 7) AS geometry
FROM finding f JOIN premises p ON p.id = f.premises_id JOIN school s ON s.id = f.school_id
WHERE f.line IS NOT NULL AND f.state <> 'resolved'
  AND (CAST(:region AS text) IS NULL OR starts_with(p.region, CAST(:region AS text)))
  AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
  AND (CAST(:school_ids AS bigint[]) IS NULL OR f.school_id = ANY(CAST(:school_ids AS bigint[])))
ORDER BY f.id
LIMIT :limit
"""

_ZONES = """
SELECT s.id, z.distance_m,
       ST_AsGeoJSON(ST_Buffer(geography(COALESCE(s.boundary, s.location)), z.distance_m)::geometry,
                    6) AS geometry
FROM unnest(CAST(:ids AS bigint[]), CAST(:distances AS float8[])) AS z(id, distance_m)
JOIN school s ON s.id = z.id
ORDER BY z.distance_m DESC, s.id
"""


@dataclass(frozen=True)
class ZoneSpec:
    """One zone to draw: a school, a distance in metres, the categories it keeps out."""

    school_id: int
    distance_m: float
    categories: tuple[str, ...]


def _rows(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [dict(r) for r in session.execute(text(sql), params).mappings()]
    for row in rows:
        if isinstance(row.get("geometry"), str):
            row["geometry"] = json.loads(row["geometry"])
    return rows


def schools(session: Session, *, region: str | None = None, ids: Sequence[int] | None = None,
            on: date) -> list[dict[str, Any]]:
    """Open schools of a region (code prefix) or of the given ids, with GeoJSON geometry."""
    return _rows(session, _SCHOOLS, {"region": region, "ids": None if ids is None else list(ids),
                                     "on": on})


def gates(session: Session, *, school_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Gates of the given schools."""
    return _rows(session, _GATES, {"ids": list(school_ids)})


def _premises_params(region: str | None, categories: Sequence[str] | None) -> dict[str, Any]:
    return {"region": region, "categories": None if categories is None else list(categories),
            "hidden": list(HIDDEN_STATUSES)}


def count_premises(session: Session, *, region: str | None,
                   categories: Sequence[str] | None) -> int:
    """How many premises a map of this region and these categories shows."""
    params = _premises_params(region, categories)
    return int(session.execute(text(_COUNT), params).scalar_one())


def premises(session: Session, *, region: str | None = None,
             categories: Sequence[str] | None = None, ids: Sequence[int] | None = None,
             flagged: bool = False, limit: int = 1_000_000) -> list[dict[str, Any]]:
    """Premises (not closed or revoked) with their most serious unresolved finding, if any."""
    params = {**_premises_params(region, categories), "flagged": flagged,
              "ids": None if ids is None else list(ids), "limit": limit}
    return _rows(session, _PREMISES, params)


def finding_lines(session: Session, *, region: str | None = None,
                  categories: Sequence[str] | None = None,
                  school_ids: Sequence[int] | None = None,
                  limit: int = 1_000_000) -> list[dict[str, Any]]:
    """Measured lines of the unresolved findings (premises point → realising school point)."""
    return _rows(session, _LINES, {
        "region": region, "categories": None if categories is None else list(categories),
        "school_ids": None if school_ids is None else list(school_ids), "limit": limit})


def zone_specs(
    rule_set: RuleSet, school_rows: Iterable[dict[str, Any]], *, categories: Iterable[str],
    on: date, region: str | None = None, extra_m: float = 0.0,
) -> list[ZoneSpec]:
    """Each school's distinct rule distances for the categories (plus `extra_m` metres)."""
    found: list[ZoneSpec] = []
    for school in school_rows:
        by_distance: dict[float, list[str]] = {}
        for zone in zone_distances(rule_set, categories=categories, levels=school["levels"],
                                   region=school["region"] or region, on=on,
                                   enrolment=school["enrolment"]):
            by_distance.setdefault(zone.distance_m + extra_m, []).append(zone.category)
        found.extend(ZoneSpec(school["id"], d, tuple(sorted(set(cats))))
                     for d, cats in sorted(by_distance.items()))
    return found


def zone_geometries(session: Session, specs: Sequence[ZoneSpec]) -> list[dict[str, Any]]:
    """Geography buffers of the zones (EPSG:4326 GeoJSON), largest first, for drawing."""
    if not specs:
        return []
    return _rows(session, _ZONES, {"ids": [z.school_id for z in specs],
                                   "distances": [z.distance_m for z in specs]})


_SCHOOLS_NEAR_BOX = """
SELECT s.id, s.code, s.name, s.levels, s.enrolment, s.region, s.address, s.precision,
       ST_AsGeoJSON(COALESCE(s.boundary, s.location), 7) AS geometry,
       ST_X(s.location) AS lon, ST_Y(s.location) AS lat
FROM school s
WHERE ST_DWithin(geography(COALESCE(s.boundary, s.location)),
                 geography(ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)), :reach_m, true)
  AND (s.closed_on IS NULL OR s.closed_on > :on)
ORDER BY s.id
"""

_REGION_EXTENT = """
SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
FROM (
    SELECT ST_Envelope(ST_Buffer(geography(ST_Envelope(ST_Collect(g))), :pad_m)::geometry) AS e
    FROM (SELECT COALESCE(boundary, location) AS g FROM school
          WHERE CAST(:region AS text) IS NULL OR starts_with(region, CAST(:region AS text))
          UNION ALL
          SELECT location FROM premises
          WHERE CAST(:region AS text) IS NULL OR starts_with(region, CAST(:region AS text))) x
) y WHERE e IS NOT NULL
"""


def schools_near_box(session: Session, *, bbox: BBox, reach_m: float,
                     on: date) -> list[dict[str, Any]]:
    """Open schools whose campus lies within `reach_m` metres of a WGS 84 box."""
    minx, miny, maxx, maxy = bbox
    return _rows(session, _SCHOOLS_NEAR_BOX, {"minx": minx, "miny": miny, "maxx": maxx,
                                               "maxy": maxy, "reach_m": reach_m, "on": on})


def region_extent(session: Session, *, region: str | None, pad_m: float) -> BBox | None:
    """Box around a region's schools and premises, widened by `pad_m` metres (None: empty)."""
    row = session.execute(text(_REGION_EXTENT), {"region": region, "pad_m": pad_m}).first()
    if row is None:
        return None
    return (float(row.minx), float(row.miny), float(row.maxx), float(row.maxy))


_PERMITTED = """
WITH zs AS (
    SELECT ST_Buffer(geography(COALESCE(s.boundary, s.location)), z.distance_m)::geometry AS g
    FROM unnest(CAST(:ids AS bigint[]), CAST(:distances AS float8[])) AS z(id, distance_m)
    JOIN school s ON s.id = z.id
),
u AS (SELECT ST_UnaryUnion(ST_Collect(g)) AS g FROM zs),
ext AS (SELECT ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) AS g)
SELECT ST_AsGeoJSON(CASE WHEN u.g IS NULL THEN ext.g ELSE ST_Difference(ext.g, u.g) END, 6)
           AS permitted,
       ST_AsGeoJSON(ST_Intersection(u.g, ext.g), 6) AS blocked,
       ST_Area(geography(CASE WHEN u.g IS NULL THEN ext.g ELSE ST_Difference(ext.g, u.g) END))
           AS permitted_m2,
       ST_Area(geography(ext.g)) AS extent_m2
FROM ext, u
"""


def permitted_area(session: Session, *, bbox: BBox, specs: Sequence[ZoneSpec]) -> dict[str, Any]:
    """Box minus the union of the zones (geography buffers), as GeoJSON, for drawing only."""
    minx, miny, maxx, maxy = bbox
    row = session.execute(text(_PERMITTED), {
        "ids": [z.school_id for z in specs], "distances": [z.distance_m for z in specs],
        "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}).mappings().one()
    return {"permitted": json.loads(row["permitted"]),
            "blocked": None if row["blocked"] is None else json.loads(row["blocked"]),
            "permitted_m2": float(row["permitted_m2"]), "extent_m2": float(row["extent_m2"])}
