"""The `zones` layer: each open school's campus buffered by each distinct rule distance.

For drawing only (decisions never use buffers): `ST_Buffer(geography(campus), distance_m)`
is computed on the ellipsoid-aware geography path, never in degrees or Web Mercator.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger, Float, Integer

from zoneguard.errors import NotFound
from zoneguard.evaluation import reach_m, zone_distances
from zoneguard.rules import RuleSet
from zoneguard.services.access.keys import Scope
from zoneguard.services.registry import BBox, check_bbox

_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Zone:
    """One drawn zone: a school and one rule distance, with the rules drawn at it."""

    school_id: int
    school_code: str
    school_name: str
    distance_m: float
    categories: tuple[str, ...]
    rule_ids: tuple[str, ...]

    @property
    def id(self) -> str:
        """Stable feature id: `<school id>-<distance in metres>`."""
        return f"{self.school_id}-{self.distance_m:g}"


_SCHOOLS = text("""
SELECT s.id, s.code, s.name, s.levels, s.region, s.enrolment FROM school s
WHERE (s.closed_on IS NULL OR s.closed_on > :on)
  AND (CAST(:school_id AS bigint) IS NULL OR s.id = :school_id)
  AND (CAST(:prefix AS text) IS NULL OR starts_with(s.region, :prefix))
  AND (CAST(:minx AS float8) IS NULL OR COALESCE(s.boundary, s.location)
       && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))
ORDER BY s.id
""")

_GEOMETRY = """
WITH z AS (SELECT * FROM unnest(:ids, :dists, :ords) AS z(school_id, distance_m, ord)),
b AS (SELECT z.ord, ST_Buffer(geography(COALESCE(s.boundary, s.location)), z.distance_m)::geometry
             AS geom
      FROM z JOIN school s ON s.id = z.school_id)
SELECT b.ord, ST_AsGeoJSON(b.geom, 7) AS geometry FROM b
"""


def _arrays(zones: list[Zone]) -> dict[str, Any]:
    return {"ids": [z.school_id for z in zones], "dists": [z.distance_m for z in zones],
            "ords": list(range(len(zones)))}


def _geometry_sql(where: str) -> Any:
    return text(_GEOMETRY + where + " ORDER BY b.ord").bindparams(
        bindparam("ids", type_=ARRAY(BigInteger)), bindparam("dists", type_=ARRAY(Float)),
        bindparam("ords", type_=ARRAY(Integer)))


def list_zones(session: Session, *, rules: RuleSet, scope: Scope, on: date,
               bbox: BBox | None = None, school_id: int | None = None) -> list[Zone]:
    """Every zone of every open school in scope (and near `bbox`), ordered by school, distance."""
    reach = reach_m(rules)
    params: dict[str, Any] = {"on": on, "prefix": scope.region_prefix, "school_id": school_id,
                              "minx": None, "miny": None, "maxx": None, "maxy": None}
    if bbox is not None:
        minx, miny, maxx, maxy = check_bbox(bbox)
        # Index prefilter only: widen the box by the largest distance (generously, in degrees);
        # the exact test is on the drawn zone below.
        lat = min(89.0, max(abs(miny), abs(maxy)))
        pad_y = 1.1 * reach / _METRES_PER_DEGREE
        pad_x = pad_y / math.cos(math.radians(lat))
        params.update(minx=max(-180.0, minx - pad_x), miny=max(-90.0, miny - pad_y),
                      maxx=min(180.0, maxx + pad_x), maxy=min(90.0, maxy + pad_y))
    categories = sorted(c for c in rules.categories() if scope.allows_category(c))
    memo: dict[tuple[Any, ...], list[tuple[float, str, str]]] = {}
    zones: list[Zone] = []
    for row in session.execute(_SCHOOLS, params):
        key = (tuple(row.levels), row.region, row.enrolment)
        if key not in memo:
            memo[key] = [(z.distance_m, z.category, z.rule_id) for z in zone_distances(
                rules, categories=categories, levels=row.levels, region=row.region, on=on,
                enrolment=row.enrolment)]
        by_distance: dict[float, tuple[set[str], set[str]]] = {}
        for distance, category, rule_id in memo[key]:
            cats, ids = by_distance.setdefault(distance, (set(), set()))
            cats.add(category)
            ids.add(rule_id)
        zones.extend(Zone(row.id, row.code, row.name, d, tuple(sorted(c)), tuple(sorted(i)))
                     for d, (c, i) in sorted(by_distance.items()))
    if bbox is None or not zones:
        return zones
    hits = session.execute(
        _geometry_sql(" WHERE ST_Intersects(b.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy,"
                      " 4326))"),
        {**_arrays(zones), "minx": bbox[0], "miny": bbox[1], "maxx": bbox[2], "maxy": bbox[3]})
    return [zones[row.ord] for row in hits]


def zone_features(session: Session, zones: list[Zone]) -> list[dict[str, Any]]:
    """GeoJSON features of some zones (geometry in EPSG:4326)."""
    if not zones:
        return []
    rows = session.execute(_geometry_sql(""), _arrays(zones))
    geometry = {row.ord: row.geometry for row in rows}
    return [{"type": "Feature", "id": z.id, "geometry": json.loads(geometry[i]),
             "properties": {"zone_id": z.id, "school_id": z.school_id,
                            "school_code": z.school_code, "school_name": z.school_name,
                            "distance_m": z.distance_m, "categories": ",".join(z.categories),
                            "rule_ids": ",".join(z.rule_ids)}}
            for i, z in enumerate(zones)]


def find_zone(zones: list[Zone], zone_id: str) -> Zone:
    """The zone of an id among `zones` (NotFound otherwise)."""
    for zone in zones:
        if zone.id == zone_id:
            return zone
    raise NotFound(f"保护范围 {zone_id} 不存在")


