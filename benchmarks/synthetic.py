"""Synthetic registries for benchmarks: a city (3,000 campuses × 100,000 premises around
114°E 30.5°N) and a nation (500,000 × 5,000,000 over China's cities), both from a fixed seed.

Campus polygons are drawn in a local azimuthal-equidistant projection (metres) around each
city centre and converted to EPSG:4326, never drawn in degrees. Rows are generated in chunks
and streamed to PostgreSQL with COPY, so the nation never sits in Python memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import psycopg
from pyproj import Transformer

CHUNK = 20_000
CATEGORIES = (("tobacco", 0.45), ("lottery", 0.18), ("internet_cafe", 0.1),
              ("entertainment", 0.12), ("gas_station", 0.08), ("fireworks", 0.07))
STATUSES = (("active", 0.85), ("suspended", 0.03), ("closed", 0.07), ("revoked", 0.02),
            ("applicant", 0.03))
LEVELS = ((("primary",), 0.33), (("secondary",), 0.22), (("kindergarten",), 0.3),
          (("primary", "secondary"), 0.08), (("vocational",), 0.04), (("special",), 0.01),
          (("higher",), 0.02))
WUHAN_DISTRICTS = ("420102", "420103", "420104", "420105", "420106", "420107", "420111",
                   "420112", "420113", "420114", "420115", "420116", "420117")
# (lon, lat, 4-digit city code, weight): provincial capitals and a few large cities.
CHINA_CITIES = (
    (116.40, 39.90, "1101", 8), (121.47, 31.23, "3101", 8), (113.26, 23.13, "4401", 7),
    (114.06, 22.54, "4403", 6), (114.30, 30.59, "4201", 5), (104.07, 30.67, "5101", 6),
    (106.55, 29.56, "5001", 7), (117.20, 39.13, "1201", 5), (120.15, 30.27, "3301", 5),
    (118.80, 32.06, "3201", 5), (108.94, 34.34, "6101", 5), (113.62, 34.75, "4101", 6),
    (112.94, 28.23, "4301", 5), (117.23, 31.82, "3401", 4), (119.30, 26.08, "3501", 4),
    (115.86, 28.68, "3601", 4), (117.00, 36.65, "3701", 5), (114.51, 38.04, "1301", 5),
    (112.55, 37.87, "1401", 3), (111.75, 40.84, "1501", 2), (123.43, 41.80, "2101", 4),
    (125.32, 43.82, "2201", 3), (126.53, 45.80, "2301", 3), (108.32, 22.82, "4501", 4),
    (110.35, 20.02, "4601", 1), (106.63, 26.65, "5201", 3), (102.71, 25.04, "5301", 3),
    (91.13, 29.65, "5401", 1), (103.83, 36.06, "6201", 2), (101.78, 36.62, "6301", 1),
    (106.23, 38.49, "6401", 1), (87.62, 43.83, "6501", 2), (120.38, 36.07, "3702", 4),
    (121.62, 38.92, "2102", 3), (118.09, 24.48, "3502", 3), (120.58, 31.30, "3205", 4),
)


@dataclass(frozen=True)
class Centre:
    """A city centre: where campuses and premises cluster, and their region codes."""

    lon: float
    lat: float
    regions: tuple[str, ...]
    weight: float
    sigma_m: float


@dataclass(frozen=True)
class Spec:
    """Sizes, seed and centres of one synthetic registry."""

    name: str
    schools: int
    premises: int
    seed: int
    centres: tuple[Centre, ...]
    near_school_share: float = 0.5  # premises placed 0–400 m from a campus (shops by schools)
    point_school_share: float = 0.1  # schools known only by a point


def city(schools: int = 3_000, premises: int = 100_000, seed: int = 20_261_123) -> Spec:
    """The synthetic city around 114°E 30.5°N (Wuhan districts)."""
    return Spec("city", schools, premises, seed,
                (Centre(114.0, 30.5, WUHAN_DISTRICTS, 1.0, 9_000.0),))


def nation(schools: int = 500_000, premises: int = 5_000_000, seed: int = 20_261_124) -> Spec:
    """The synthetic nation: campuses and premises clustered around China's large cities."""
    centres = tuple(Centre(lon, lat, tuple(f"{code}{d:02d}" for d in range(2, 8)), w, 15_000.0)
                    for lon, lat, code, w in CHINA_CITIES)
    return Spec("nation", schools, premises, seed, centres)


@lru_cache(maxsize=256)
def _to_wgs84(lon: float, lat: float) -> Transformer:
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    return Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    counts = np.floor(total * weights / weights.sum()).astype(int)
    counts[: total - counts.sum()] += 1
    return counts


def _choice(rng: np.random.Generator, table: tuple[tuple[Any, float], ...], n: int) -> list[Any]:
    values = [v for v, _ in table]
    probs = np.array([p for _, p in table])
    picks = rng.choice(len(values), size=n, p=probs / probs.sum())
    return [values[i] for i in picks]


def _per_centre(spec: Spec, total: int) -> list[tuple[Centre, int]]:
    weights = np.array([c.weight for c in spec.centres], dtype=float)
    return list(zip(spec.centres, _split(total, weights).tolist(), strict=True))


def _campus_xy(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rings of n campuses in local metres relative to their centres: (n, 7, 2) and L-flags."""
    w = rng.uniform(80, 300, n)
    h = rng.uniform(80, 300, n)
    cut = rng.random(n) < 0.3  # L-shaped campuses: a corner cut away
    cx, cy = np.where(cut, w * rng.uniform(0.3, 0.6, n), w), np.where(cut, h * 0.5, h)
    # Ring of 7 vertices: (0,0) (w,0) (w,cy) (cx,cy) (cx,h) (0,h) (0,0); a rectangle when uncut.
    xs = np.stack([np.zeros(n), w, w, cx, cx, np.zeros(n), np.zeros(n)], axis=1) - w[:, None] / 2
    ys = np.stack([np.zeros(n), np.zeros(n), cy, cy, h, h, np.zeros(n)], axis=1) - h[:, None] / 2
    theta = rng.uniform(0, np.pi, n)[:, None]
    rx = xs * np.cos(theta) - ys * np.sin(theta)
    ry = xs * np.sin(theta) + ys * np.cos(theta)
    return np.stack([rx, ry], axis=2), cut


def _ring_wkt(lons: np.ndarray, lats: np.ndarray, cut: bool) -> str:
    keep = range(7) if cut else (0, 1, 2, 4, 5, 6)  # drop the collinear vertex of a rectangle
    ring = ", ".join(f"{lons[i]:.7f} {lats[i]:.7f}" for i in keep)
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def _date(rng: np.random.Generator, start: date, days: int, n: int) -> list[date]:
    return [start + timedelta(days=int(d)) for d in rng.integers(0, days, n)]


def campus_positions(spec: Spec) -> list[tuple[Centre, np.ndarray, np.ndarray]]:
    """Campus centres in local metres around each city centre (their own random stream)."""
    rng = np.random.default_rng(spec.seed + 2)
    return [(centre, *_positions(rng, centre, count))
            for centre, count in _per_centre(spec, spec.schools)]


def school_chunks(spec: Spec, first_id: int) -> Iterator[tuple[list[tuple[Any, ...]],
                                                              list[tuple[Any, ...]]]]:
    """Yield (school rows, gate rows) in chunks; school ids start at `first_id`."""
    rng = np.random.default_rng(spec.seed)
    next_id = first_id
    for centre, xs, ys in campus_positions(spec):
        to_wgs = _to_wgs84(centre.lon, centre.lat)
        for start in range(0, len(xs), CHUNK):
            ox, oy = xs[start:start + CHUNK], ys[start:start + CHUNK]
            n = len(ox)
            rings, cut = _campus_xy(rng, n)
            lon, lat = to_wgs.transform(rings[..., 0] + ox[:, None], rings[..., 1] + oy[:, None])
            clon, clat = to_wgs.transform(ox, oy)
            is_point = rng.random(n) < spec.point_school_share
            levels = _choice(rng, LEVELS, n)
            enrol = rng.integers(40, 3_000, n)
            enrol_known = rng.random(n) > 0.1
            opened = _date(rng, date(1950, 1, 1), 27_000, n)
            region = rng.integers(0, len(centre.regions), n)
            gate_edge = rng.integers(0, 3, n)
            schools, gates = [], []
            for i in range(n):
                sid = next_id + i
                boundary = None if is_point[i] else _ring_wkt(lon[i], lat[i], bool(cut[i]))
                location = f"SRID=4326;POINT({clon[i]:.7f} {clat[i]:.7f})"
                schools.append((sid, f"{spec.name}-{spec.seed}-{sid}", f"合成学校{sid}",
                                list(levels[i]), int(enrol[i]) if enrol_known[i] else None,
                                centre.regions[region[i]], boundary, location,
                                "point" if is_point[i] else "boundary", opened[i], "synthetic"))
                if not is_point[i]:
                    for k in range(int(gate_edge[i]) + 1):  # 1-3 gates, mid-edge of the ring
                        gx = (lon[i][k] + lon[i][k + 1]) / 2
                        gy = (lat[i][k] + lat[i][k + 1]) / 2
                        gates.append((sid, ("main", "side", "back")[k],
                                      f"SRID=4326;POINT({gx:.7f} {gy:.7f})", "synthetic"))
            next_id += n
            yield schools, gates


def _positions(rng: np.random.Generator, centre: Centre, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Local metres around a centre: a Gaussian core with a uniform fringe."""
    core = rng.random(n) < 0.8
    gx, gy = rng.normal(0, centre.sigma_m, n), rng.normal(0, centre.sigma_m, n)
    span = centre.sigma_m * 3
    ux, uy = rng.uniform(-span, span, n), rng.uniform(-span, span, n)
    return np.where(core, gx, ux), np.where(core, gy, uy)


def premises_chunks(spec: Spec) -> Iterator[list[tuple[Any, ...]]]:
    """Yield premises rows in chunks: half by a campus (0–400 m), half spread over the city."""
    rng = np.random.default_rng(spec.seed + 1)
    serial = 0
    campuses = campus_positions(spec)
    for (centre, sx, sy), count in zip(campuses, _split(spec.premises, np.array(
            [c.weight for c in spec.centres], dtype=float)).tolist(), strict=True):
        to_wgs = _to_wgs84(centre.lon, centre.lat)
        if len(sx) == 0:
            sx, sy = np.zeros(1), np.zeros(1)
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            x, y = _positions(rng, centre, n)
            near = rng.random(n) < spec.near_school_share
            pick = rng.integers(0, len(sx), n)
            dist, ang = rng.uniform(0, 400, n), rng.uniform(0, 2 * np.pi, n)
            x = np.where(near, sx[pick] + dist * np.cos(ang), x)
            y = np.where(near, sy[pick] + dist * np.sin(ang), y)
            has_door = rng.random(n) < 0.3
            door_d, door_a = rng.uniform(3, 15, n), rng.uniform(0, 2 * np.pi, n)
            lon, lat = to_wgs.transform(x, y)
            dlon, dlat = to_wgs.transform(x + door_d * np.cos(door_a), y + door_d * np.sin(door_a))
            cats = _choice(rng, CATEGORIES, n)
            statuses = _choice(rng, STATUSES, n)
            issued = _date(rng, date(1995, 1, 1), 11_000, n)
            region = rng.integers(0, len(centre.regions), n)
            rows = []
            for i in range(n):
                serial += 1
                door = f"SRID=4326;POINT({dlon[i]:.7f} {dlat[i]:.7f})" if has_door[i] else None
                rows.append((cats[i], f"SYN{spec.seed % 1000:03d}{serial:09d}", f"合成场所{serial}",
                             centre.regions[region[i]],
                             f"SRID=4326;POINT({lon[i]:.7f} {lat[i]:.7f})", door, issued[i],
                             statuses[i], "synthetic", "EPSG:4326"))
            yield rows


SCHOOL_COPY = ("COPY school (id, code, name, levels, enrolment, region, boundary, location, "
               "precision, opened_on, source) FROM STDIN")
GATE_COPY = "COPY school_gate (school_id, kind, location, source) FROM STDIN"
PREMISES_COPY = ("COPY premises (category, licence_no, name, region, location, entrance, "
                 "issued_on, status, source, source_crs) FROM STDIN")


@dataclass(frozen=True)
class Loaded:
    """Row counts written by `load`."""

    schools: int
    gates: int
    premises: int


def _reserve_school_ids(conn: psycopg.Connection[Any], n: int) -> int:
    row = conn.execute("SELECT nextval(pg_get_serial_sequence('school', 'id'))").fetchone()
    assert row is not None
    first = int(row[0])
    conn.execute("SELECT setval(pg_get_serial_sequence('school', 'id'), %s)", (first + n,))
    return first


def load(conn: psycopg.Connection[Any], spec: Spec) -> Loaded:
    """Stream the registry of `spec` into school, school_gate and premises with COPY."""
    first = _reserve_school_ids(conn, spec.schools)
    schools = gates = premises = 0
    with conn.cursor() as cur:
        for school_rows, gate_rows in school_chunks(spec, first):
            with cur.copy(SCHOOL_COPY) as copy:
                for row in school_rows:
                    copy.write_row(row)
            with cur.copy(GATE_COPY) as copy:
                for row in gate_rows:
                    copy.write_row(row)
            schools, gates = schools + len(school_rows), gates + len(gate_rows)
        for rows in premises_chunks(spec):
            with cur.copy(PREMISES_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
            premises += len(rows)
    return Loaded(schools, gates, premises)
