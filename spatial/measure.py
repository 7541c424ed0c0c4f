"""Measurement SQL: the one path from a premises point to the schools around it.

Every distance is geodesic on the WGS 84 ellipsoid (PostGIS geography, spheroid), in metres:
`boundary_m` from the premises point to the campus polygon (0 inside, holes and multipart
campuses count; the school point for a point-only school), `door_boundary_m` the same from
the premises door when it is not the point, `gate_m` from the premises door
(entrance, or the point when no entrance is known) to the nearest gate. Candidates come from
the GiST index on `geography(COALESCE(boundary, location))` through `ST_DWithin`; the exact
distance is then the geodesic between the two points that realise it (`zg_nearest_point`).
Screening (one point) and scans (all premises) both select `PAIR_COLUMNS` over `PAIR_JOINS`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

# Fragments shared by the screening and the scan queries. `{pt}` and `{door}` are replaced by
# fixed SQL expressions of this module (never by user values), which are bound parameters.
PAIR_JOINS = """
CROSS JOIN LATERAL
    -- Computed once per pair (a subquery would be pulled up and `near` computed three
    -- times); a function scan, unlike a subquery with LIMIT or OFFSET, may run in a
    -- parallel worker.
    -- The door's own nearest campus point only when the door is not the point itself.
    unnest(ARRAY[zg_nearest_point(COALESCE(s.boundary, s.location), {pt})],
           ARRAY[CASE WHEN {door} ~= {pt} THEN NULL
                      ELSE zg_nearest_point(COALESCE(s.boundary, s.location), {door}) END])
        AS nb(near, door_near)
LEFT JOIN LATERAL (
    -- DISTINCT ON rather than LIMIT 1, for the same reason.
    SELECT DISTINCT ON (g.school_id) g.id AS gate_id, g.location AS gate,
           ST_Distance(geography(g.location), geography({door}), true) AS gate_m
    FROM school_gate g WHERE g.school_id = s.id
    ORDER BY g.school_id, 3, g.id
) ng ON true
"""

PAIR_COLUMNS = """
    s.id AS school_id, s.code AS school_code, s.name AS school_name, s.levels,
    s.enrolment, s.region AS school_region, s.precision, s.opened_on AS school_opened_on,
    ST_Distance(geography(nb.near), geography({pt}), true) AS boundary_m,
    ST_X(nb.near) AS near_lon, ST_Y(nb.near) AS near_lat,
    ST_Distance(geography(nb.door_near), geography({door}), true) AS door_boundary_m,
    ST_X(nb.door_near) AS door_near_lon, ST_Y(nb.door_near) AS door_near_lat,
    ng.gate_id, ng.gate_m, ST_X(ng.gate) AS gate_lon, ST_Y(ng.gate) AS gate_lat
"""

_SCREEN_SQL = f"""
WITH q AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt,
           ST_SetSRID(ST_MakePoint(:door_lon, :door_lat), 4326) AS door
)
SELECT {PAIR_COLUMNS.format(pt="q.pt", door="q.door")}
FROM q
JOIN school s
  ON ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(q.pt), :radius_m, true)
{PAIR_JOINS.format(pt="q.pt", door="q.door")}
WHERE s.closed_on IS NULL OR s.closed_on > :on
ORDER BY boundary_m, s.id
"""
_SCREEN_TEXT = text(_SCREEN_SQL)  # built once: parsing a text() costs more than the binding


class SchoolCandidate(NamedTuple):
    """A school near a premises, with both measured distances and their realising points.

    A named tuple rather than a frozen dataclass: a scan builds one per measured pair.
    """

    school_id: int
    school_code: str
    school_name: str
    levels: tuple[str, ...]
    enrolment: int | None
    school_region: str | None
    precision: str
    school_opened_on: date | None
    boundary_m: float
    near_lon: float
    near_lat: float
    gate_id: int | None
    gate_m: float | None
    gate_lon: float | None
    gate_lat: float | None
    door_boundary_m: float | None = None  # from the door, when it is not the point
    door_near_lon: float | None = None
    door_near_lat: float | None = None

    @property
    def nearest_boundary_m(self) -> float:
        """Metres from the nearer of the premises point and its door to the campus."""
        door = self.door_boundary_m
        return self.boundary_m if door is None or door >= self.boundary_m else door

    @classmethod
    def from_row(cls, row: Any) -> SchoolCandidate:
        """Build a candidate from a row selecting `PAIR_COLUMNS`."""
        data = dict(row._mapping)
        data["levels"] = tuple(data["levels"])
        return cls(**{name: data[name] for name in cls._fields})


def schools_near(
    db: Session | Connection,
    *,
    lon: float,
    lat: float,
    radius_m: float,
    on: date,
    door: tuple[float, float] | None = None,
) -> list[SchoolCandidate]:
    """Schools whose campus (or point) lies within `radius_m` metres of (lon, lat) EPSG:4326."""
    door_lon, door_lat = door if door is not None else (lon, lat)
    rows = db.execute(
        _SCREEN_TEXT,
        {"lon": lon, "lat": lat, "door_lon": door_lon, "door_lat": door_lat,
         "radius_m": radius_m, "on": on},
    )
    return [SchoolCandidate.from_row(row) for row in rows]
