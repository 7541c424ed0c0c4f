"""Walking screenings on the real Shenzhen Longgang and Beijing Haidian networks (warm, in-process).

Each screening here has at least one protected school whose straight line is inside the
walking rule, so pgRouting runs: Guangdong entertainment (200 m walked, door → gate or campus
boundary) in Shenzhen, Beijing tobacco (100 m walked) in Haidian. Prints p50/p95/p99 of
`screen()` and of `walk()` alone, and the ratio against routing on the unclipped network.

A synthetic street grid (default 300 × 300 streets 50 m apart, ~180,000 edges, 100 gated
campuses) stands in for a whole city, to show the box clip at city scale.

Run: .venv/bin/python -m benchmarks.bench_walking [--n 500] [--grid 300]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import scratch_database
from spatial.measure import schools_near
from spatial.walking import WalkResult, walk
from zoneguard.imports import read_table
from zoneguard.rules import RuleSet
from zoneguard.services.ingest.network import import_network
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening import screen
from zoneguard.settings import PROJECT_ROOT

GEOD = Geod(ellps="WGS84")
REAL = PROJECT_ROOT / "data" / "real"
# file, region, category, walking distance of that category's rule there
CITIES = (("shenzhen_longgang.osm", "440307", "entertainment", 200.0),
          ("beijing_haidian.osm", "110108", "tobacco", 100.0))
DAY = date(2026, 9, 1)
GRID_ORIGIN = (114.00, 22.50)  # west of the Longgang extract
GRID_STEP = (50 / 102_800, 50 / 110_760)  # ≈ 50 m at 22.5° N (only to lay out the grid)


def _ms(samples: list[float]) -> str:
    arr = np.array(samples) * 1000
    return (f"p50 {np.percentile(arr, 50):6.2f} ms  p95 {np.percentile(arr, 95):6.2f} ms  "
            f"p99 {np.percentile(arr, 99):6.2f} ms  max {arr.max():6.2f} ms")


def _load(session: Session, name: str, region: str) -> None:
    import_network(session, path=REAL / name, region=region)
    frame = read_table(REAL / name, kind="schools", crs=None).frame
    ids = {}
    for row in frame.itertuples():
        ids[row.code] = session.execute(text(
            "INSERT INTO school (code, name, levels, boundary, location, precision) VALUES "
            "(:code, :name, :levels, ST_Multi(ST_GeomFromText(:wkt, 4326)), "
            "ST_PointOnSurface(ST_GeomFromText(:wkt, 4326)), 'boundary') RETURNING id"
            if row.geometry.geom_type != "Point" else
            "INSERT INTO school (code, name, levels, location, precision) VALUES "
            "(:code, :name, :levels, ST_GeomFromText(:wkt, 4326), 'point') RETURNING id"),
            {"code": row.code, "name": row.name, "levels": list(row.levels),
             "wkt": row.geometry.wkt}).scalar_one()
    gates = read_table(REAL / name, kind="gates", crs=None).frame
    for row in gates.itertuples():
        session.execute(text("INSERT INTO school_gate (school_id, kind, location) VALUES "
                             "(:sid, 'main', ST_GeomFromText(:wkt, 4326))"),
                        {"sid": ids[row.school_code], "wkt": row.geometry.wkt})
    # Most OSM campuses have no gate: give each one a stand-in gate where its outline comes
    # closest to a street, so the benchmark times routing rather than "no gate" reviews.
    session.execute(text(_STAND_IN_GATES), {"ids": list(ids.values())})


_STAND_IN_GATES = """
INSERT INTO school_gate (school_id, kind, location)
SELECT s.id, 'other', ST_ClosestPoint(ST_Boundary(s.boundary), e.geom)
FROM school s
CROSS JOIN LATERAL (SELECT geom FROM network_edge ORDER BY geom <-> s.boundary LIMIT 1) e
WHERE s.id = ANY(:ids) AND s.boundary IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM school_gate g WHERE g.school_id = s.id)
"""


def _doors(session: Session, rules: RuleSet, category: str, region: str, reach_m: float,
           n: int, seed: int) -> list[tuple[tuple[float, float], int]]:
    """Doors near a street, each with a protected campus inside `reach_m` (so a walk runs)."""
    lines = [shapely.from_wkb(w) for w in session.execute(text(
        "SELECT ST_AsBinary(e.geom) FROM network_edge e JOIN school s ON "
        "ST_DWithin(geography(e.geom), geography(COALESCE(s.boundary, s.location)), :r)"),
        {"r": reach_m}).scalars()]
    rng = random.Random(seed)
    doors: list[tuple[tuple[float, float], int]] = []
    while len(doors) < n:
        p = rng.choice(lines).interpolate(rng.random(), normalized=True)
        lon, lat, _ = GEOD.fwd(p.x, p.y, rng.uniform(0, 360), rng.uniform(0, 30))
        for c in schools_near(session, lon=lon, lat=lat, radius_m=reach_m, on=DAY):
            protected = rules.applicable(category=category, levels=c.levels, region=region,
                                         on=DAY, enrolment=c.enrolment)
            if c.boundary_m > 0 and c.precision == "boundary" and protected:
                doors.append(((lon, lat), c.school_id))
                break
    return doors


def _grid(session: Session, size: int, workdir: Path) -> None:
    """A city-sized street grid (`size` × `size` streets 50 m apart) with 100 gated campuses."""
    lines, features = [], []
    for i in range(size):
        row = [(GRID_ORIGIN[0] + j * GRID_STEP[0], GRID_ORIGIN[1] + i * GRID_STEP[1])
               for j in range(size)]
        col = [(GRID_ORIGIN[0] + i * GRID_STEP[0], GRID_ORIGIN[1] + j * GRID_STEP[1])
               for j in range(size)]
        lines += [row, col]
    for line in lines:
        features.append({"type": "Feature", "properties": {"highway": "residential"},
                         "geometry": {"type": "LineString", "coordinates": line}})
    path = workdir / "grid.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    import_network(session, path=path, region="440304", crs="EPSG:4326")
    rng = random.Random(3)
    for k in range(100):  # a campus fills a block; its gate is on the block's south street
        i, j = rng.randrange(size - 1), rng.randrange(size - 1)
        x0, y0 = GRID_ORIGIN[0] + j * GRID_STEP[0], GRID_ORIGIN[1] + i * GRID_STEP[1]
        dx, dy = GRID_STEP[0] * 0.1, GRID_STEP[1] * 0.1
        block = shapely.box(x0 + dx, y0 + dy, x0 + GRID_STEP[0] - dx, y0 + GRID_STEP[1] - dy)
        sid = session.execute(text(
            "INSERT INTO school (code, name, levels, boundary, location, precision) VALUES "
            "(:code, :code, ARRAY['primary'], ST_Multi(ST_GeomFromText(:wkt, 4326)), "
            "ST_PointOnSurface(ST_GeomFromText(:wkt, 4326)), 'boundary') RETURNING id"),
            {"code": f"grid-{k}", "wkt": block.wkt}).scalar_one()
        session.execute(text("INSERT INTO school_gate (school_id, kind, location) VALUES "
                             "(:sid, 'main', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
                        {"sid": sid, "x": x0 + GRID_STEP[0] / 2, "y": y0 + dy})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--grid", type=int, default=300, help="streets per side (0: none)")
    args = parser.parse_args()
    with scratch_database() as (settings, engine), \
            tempfile.TemporaryDirectory() as workdir:
        with Session(engine) as session:
            for name, region, _, _ in CITIES:
                _load(session, name, region)
            if args.grid:
                start = time.perf_counter()
                _grid(session, args.grid, Path(workdir))
                print(f"grid of {args.grid}x{args.grid} streets imported in "
                      f"{time.perf_counter() - start:.1f} s")
            session.commit()
            session.execute(text("ANALYZE"))
        rules = current_rule_set(settings)
        cities = [*CITIES, *([("synthetic grid", "440304", "entertainment", 200.0)]
                             if args.grid else [])]
        with Session(engine) as session:
            for name, region, category, reach in cities:
                doors = _doors(session, rules, category, region, reach, args.n, seed=7)
                for door, _ in doors[:30]:  # warm-up: connection, PROJ, plans
                    screen(session, category=category, point=door, region=region,
                           settings=settings, rule_set=rules, store=False, on=DAY)
                screens: list[float] = []
                walks: list[float] = []
                wide: list[float] = []
                outcomes: Counter[str] = Counter()
                for door, school_id in doors:
                    start = time.perf_counter()
                    screen(session, category=category, point=door, region=region,
                           settings=settings, rule_set=rules, store=False, on=DAY)
                    screens.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    got = walk(session, door=door, school_id=school_id,
                               max_snap_m=settings.walking_snap_max_m,
                               box_margin_m=max(3 * reach, 500))
                    walks.append(time.perf_counter() - start)
                    outcomes["walked" if isinstance(got, WalkResult) else got.kind] += 1
                    start = time.perf_counter()
                    walk(session, door=door, school_id=school_id,
                         max_snap_m=settings.walking_snap_max_m, box_margin_m=1e6)
                    wide.append(time.perf_counter() - start)
                edges = session.execute(text("SELECT count(*) FROM network_edge WHERE region = "
                                             ":r"), {"r": region}).scalar_one()
                print(f"{name} ({edges} edges), {category}, {len(doors)} screenings, "
                      f"walk outcomes {dict(outcomes)}:")
                print(f"  screen() with walking   {_ms(screens)}")
                print(f"  walk() clipped box      {_ms(walks)}")
                print(f"  walk() whole network    {_ms(wide)}  "
                      f"(median ratio {np.median(wide) / np.median(walks):.2f}x)")


if __name__ == "__main__":
    main()
