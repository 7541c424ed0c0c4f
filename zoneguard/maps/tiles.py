"""Vector tiles (MVT) of premises from PostGIS, aggregated per tile cell below street zoom.

Web Mercator (EPSG:3857) is the tile space for drawing only; nothing here measures. Each
tile groups the premises falling in one cell of the tile grid (256 of 4096 units, 16 px)
below zoom 15, so a city of 100,000 premises opens with a few hundred points per tile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.crs import from_wgs84
from zoneguard.errors import ValidationError
from zoneguard.maps.data import HIDDEN_STATUSES, PREMISES_FILTER, WORST_FINDING

EXTENT = 4096
CLUSTER_BELOW_ZOOM = 15
CLUSTER_CELL = 256
MAX_ZOOM = 22
VERDICTS = ("prohibited", "review", "none")
_R = 6378137.0

_PREMISES_TILE = f"""
WITH b AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_Translate(ST_TileEnvelope(:z, :x, :y, margin => 0.02), -:dx, -:dy),
                        4326) AS env4326
),
src AS (
    SELECT p.id, p.category, p.name, p.licence_no, p.address,
           coalesce(w.verdict, 'none') AS verdict, w.state, w.finding_id, w.distance_m, w.rule_id,
           ST_AsMVTGeom(ST_Translate(ST_Transform(p.location, 3857), :dx, :dy), b.env,
                        {EXTENT}, 64, true) AS geom
    FROM b CROSS JOIN premises p
    {WORST_FINDING}
    WHERE p.location && b.env4326 AND {PREMISES_FILTER}
      AND coalesce(w.verdict, 'none') = ANY(CAST(:verdicts AS text[]))
),
cells AS (
    SELECT min(id) AS fid, count(*)::int AS n,
           CASE WHEN count(DISTINCT category) = 1 THEN min(category) ELSE 'mixed' END AS category,
           (array_agg(verdict ORDER BY CASE verdict WHEN 'prohibited' THEN 0
                                                    WHEN 'review' THEN 1 ELSE 2 END))[1]
               AS verdict,
           CASE WHEN count(*) = 1 THEN min(name) END AS name,
           CASE WHEN count(*) = 1 THEN min(licence_no) END AS licence_no,
           CASE WHEN count(*) = 1 THEN min(address) END AS address,
           CASE WHEN count(*) = 1 THEN min(state) END AS state,
           CASE WHEN count(*) = 1 THEN min(finding_id) END AS finding_id,
           CASE WHEN count(*) = 1 THEN min(distance_m) END AS distance_m,
           CASE WHEN count(*) = 1 THEN min(rule_id) END AS rule_id,
           ST_MakePoint(round(avg(ST_X(geom))), round(avg(ST_Y(geom)))) AS geom
    FROM src WHERE geom IS NOT NULL
    GROUP BY floor(ST_X(geom) / :cell), floor(ST_Y(geom) / :cell)
)
SELECT ST_AsMVT(cells, 'premises', {EXTENT}, 'geom', 'fid') FROM cells
"""


def check_tile(z: int, x: int, y: int) -> None:
    """Raise ValidationError unless z/x/y names a tile of the Web Mercator grid."""
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise ValidationError(f"没有瓦片 {z}/{x}/{y}：缩放级别应为 0–{MAX_ZOOM}，"
                              "x、y 应为 0 到 2^缩放级别−1")


def tile_centre(z: int, x: int, y: int) -> tuple[float, float]:
    """WGS 84 lon/lat (degrees) of the centre of a Web Mercator tile."""
    n = 2**z
    lon = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lon, lat


def display_offset(z: int, x: int, y: int, display_crs: str | None) -> tuple[float, float]:
    """Web Mercator metres that move WGS 84 points of this tile to the basemap's datum."""
    if display_crs is None:
        return 0.0, 0.0
    lon, lat = tile_centre(z, x, y)
    slon, slat = (float(v[0]) for v in from_wgs84([lon], [lat], display_crs))

    def merc(lo: float, la: float) -> tuple[float, float]:
        return _R * math.radians(lo), _R * math.log(math.tan(math.pi / 4 + math.radians(la) / 2))

    (x0, y0), (x1, y1) = merc(lon, lat), merc(slon, slat)
    return x1 - x0, y1 - y0


def premises_tile(
    session: Session, *, z: int, x: int, y: int, region: str | None = None,
    categories: Sequence[str] | None = None, verdicts: Sequence[str] | None = None,
    display_crs: str | None = None,
) -> bytes:
    """One MVT tile of premises (layer `premises`), aggregated per cell below zoom 15."""
    check_tile(z, x, y)
    wanted = [v for v in (verdicts if verdicts is not None else VERDICTS) if v in VERDICTS]
    dx, dy = display_offset(z, x, y, display_crs)
    params = {"z": z, "x": x, "y": y, "dx": dx, "dy": dy, "region": region,
              "categories": None if categories is None else list(categories),
              "hidden": list(HIDDEN_STATUSES), "verdicts": wanted,
              "cell": CLUSTER_CELL if z < CLUSTER_BELOW_ZOOM else 1}
    tile = session.execute(text(_PREMISES_TILE), params).scalar_one()
    return bytes(tile or b"")
