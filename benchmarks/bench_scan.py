"""Rescan speed on a synthetic registry, against the bare PostGIS join and the naive way.

In one run, on the same data in a temporary embedded cluster (destroyed at the end):
1. the bare `ST_DWithin` join premises × schools at the screening radius (count only);
2. `run_scan`: first (full: measure + judge + insert), second (unchanged: incremental),
   a full rescan of unchanged data (only changed rows written), and an incremental rescan
   after 1 % of the premises moved;
3. GeoPandas: `buffer(200)` of every campus in a local metric CRS + `sjoin`, against the exact
   geodesic `ST_DWithin(…, 200, true)` pairs: time and pairs it gets wrong;
4. the plans (EXPLAIN ANALYZE): parallel workers, estimated vs actual rows;
5. peak RSS of the process before and after the first rescan (the scan spills its hits, so
   the growth must not depend on the number of pairs: compare two `--scale`s);
6. with `--dask`: forced-full rescans on a Dask `LocalCluster` with 1 then 2 worker processes
   over two local streaming replicas, the speed-up, and a model for N machines
   (`benchmarks/dask_scaling.py`).

Run: .venv/bin/python -m benchmarks.bench_scan --city            (3,000 × 100,000)
     .venv/bin/python -m benchmarks.bench_scan --nation --scale 0.02   (10,000 × 100,000)
     .venv/bin/python -m benchmarks.bench_scan --nation --scale 0.02 --dask
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date
from typing import Any

import geopandas as gpd
from sqlalchemy import Engine, text

from benchmarks.common import scratch_database, timed
from benchmarks.synthetic import Spec, city, load, nation
from zoneguard.evaluation import Tolerances
from zoneguard.rules import RuleSet, load_rule_set
from zoneguard.services.bulk import upkeep_deferred
from zoneguard.services.scan import sql as scan_sql
from zoneguard.services.scan.diff import DEFAULT_REACH_M, Plan, measure_params
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

BARE_JOIN = """
SELECT count(*) FROM premises p
JOIN unnest(CAST(:categories AS text[]), CAST(:radii AS float8[])) AS r(category, radius_m)
  ON r.category = p.category
JOIN school s ON ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location),
                            r.radius_m, true)
WHERE p.status IN ('active', 'suspended') AND (s.closed_on IS NULL OR s.closed_on > :on)
"""
EXACT_200 = """
SELECT p.id AS premises_id, s.id AS school_id FROM premises p
JOIN school s ON ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location),
                            200, true)
"""


def _bare_params(rules: RuleSet, settings: Settings) -> dict[str, Any]:
    categories = sorted(rules.categories())
    extra = settings.review_margin_m + settings.point_school_radius_m + 1.0
    return {"categories": categories, "on": date.today(),
            "radii": [(rules.max_distance_m(c) or DEFAULT_REACH_M) + extra for c in categories]}


def _plan_facts(engine: Engine, sql: str, params: dict[str, Any]) -> str:
    """Workers planned/launched and the estimate of the largest join, from EXPLAIN ANALYZE."""
    with engine.connect() as conn:
        conn.execute(text("SET jit = off"))
        conn.execute(text("SET min_parallel_table_scan_size = 0"))  # as scans do
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql), params).scalar_one()
    nodes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    gathers = [n for n in nodes if n["Node Type"].startswith("Gather")]
    joins = [n for n in nodes if "Join" in n["Node Type"] or n["Node Type"] == "Nested Loop"]
    workers = ", ".join(f"{g.get('Workers Planned')} planned / {g.get('Workers Launched')} "
                        f"launched" for g in gathers) or "none (serial plan)"
    biggest = max(joins, key=lambda n: n["Actual Rows"] * n["Actual Loops"], default=None)
    rows = "" if biggest is None else (
        f"; largest join estimated {biggest['Plan Rows']:,} rows × {biggest['Actual Loops']} "
        f"loops, actual {biggest['Actual Rows']:,}")
    return f"workers: {workers}{rows}; {plan[0]['Execution Time'] / 1000:.2f} s"


def _naive(engine: Engine, results: dict[str, float]) -> tuple[int, int, int]:
    """GeoPandas buffer(200) + sjoin in a local metric CRS; (pairs, missed, extra) vs exact."""
    with engine.connect() as conn:
        schools = gpd.read_postgis(text(
            "SELECT id AS school_id, COALESCE(boundary, location) AS geom FROM school"),
            conn, geom_col="geom")
        premises = gpd.read_postgis(text("SELECT id AS premises_id, location AS geom "
                                         "FROM premises"), conn, geom_col="geom")
        with timed("PostGIS exact ST_DWithin 200 m pairs", results):
            exact = {tuple(r) for r in conn.execute(text(EXACT_200)).all()}
    west, south, east, north = schools.total_bounds
    local = (f"+proj=aeqd +lat_0={(south + north) / 2} +lon_0={(west + east) / 2} "
             "+datum=WGS84 +units=m +no_defs")
    with timed("GeoPandas buffer(200) + sjoin (local AEQD)", results):
        zones = schools.to_crs(local)
        zones["geom"] = zones.buffer(200)
        joined = gpd.sjoin(premises.to_crs(local), zones, predicate="intersects")
    naive = set(zip(joined["premises_id"], joined["school_id"], strict=True))
    return len(naive), len(exact - naive), len(naive - exact)


def _move_some(engine: Engine, share: float) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text(
            "UPDATE premises SET location = ST_Project(geography(location), 40, radians(90))"
            "::geometry WHERE id % CAST(:n AS int) = 0"), {"n": round(1 / share)}).rowcount)


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(spec: Spec, *, dask: bool = False) -> None:
    """Load `spec`, time everything, print the table."""
    results: dict[str, float] = {}
    notes: list[str] = []
    with scratch_database() as (settings, engine):
        with timed(f"load {spec.schools:,} schools + {spec.premises:,} premises (COPY)",
                   results), engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            # indexes and keys built once after the load, as a bulk import does
            with upkeep_deferred(conn, ["school", "school_gate", "premises"]):
                loaded = load(raw, spec)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        rules = load_rule_set(settings.effective_rules_dir)
        bare = _bare_params(rules, settings)
        with timed("bare ST_DWithin join (count)", results), engine.connect() as conn:
            conn.execute(text("SET jit = off"))
            pairs = conn.execute(text(BARE_JOIN), bare).scalar_one()
        facts = _plan_facts(engine, BARE_JOIN, bare)
        notes.append(f"bare join: {pairs:,} candidate pairs; {facts}")
        rss: list[float] = []
        dask_lines: list[str] = []
        scans: list[tuple[str, dict[str, Any]]] = [
            ("rescan 1: first, full (measure + judge + insert)", {"full": True}),
            ("rescan 2: unchanged data (incremental)", {}),
            ("rescan 3: unchanged data, forced full", {"full": True})]
        for label, options in scans:
            rss_before = _peak_rss_mb()
            with timed(label, results):
                summary = run_scan(engine, trigger="manual", settings=settings, **options)
            if not rss:
                rss = [rss_before, _peak_rss_mb()]
            phases = ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items())
            notes.append(f"{label}: {summary.mode}, {summary.pairs:,} pairs, new {summary.new:,}"
                         f", open {summary.open:,}, resolved {summary.resolved:,}; {phases}")
        moved = _move_some(engine, 0.01)
        with timed("rescan 4: 1 % of premises moved 40 m (incremental)", results):
            summary = run_scan(engine, trigger="manual", settings=settings)
        notes.append(f"rescan 4: {moved:,} moved; {summary.mode}, {summary.pairs:,} pairs, "
                     f"new {summary.new}, resolved {summary.resolved}")
        plan = Plan(date.today(), None, rules, Tolerances(settings.review_margin_m,
                                                          settings.point_school_radius_m))
        with engine.connect() as conn:
            snap = conn.execute(text(scan_sql.SNAPSHOT)).one()
        params = measure_params(plan, 0, snap, "bench")
        notes.append("scan measurement: " + _plan_facts(
            engine, scan_sql.measure_sql(incremental=False), params))
        if dask:
            from benchmarks.dask_scaling import run_dask

            dask_lines = run_dask(settings, engine, results, notes)
        naive, missed, extra = _naive(engine, results)
        notes.append(f"GeoPandas buffer(200)+sjoin: {naive:,} pairs; {missed} exact pairs "
                     f"missed, {extra} pairs beyond 200 m included")
    print(f"{spec.name}: {loaded.schools:,} schools, {loaded.gates:,} gates, "
          f"{loaded.premises:,} premises")
    for label, seconds in results.items():
        print(f"  {label:58s} {seconds:8.2f} s")
    base = results["bare ST_DWithin join (count)"]
    first = results["rescan 1: first, full (measure + judge + insert)"]
    print(f"  ratio first rescan / bare join:          {first / base:5.2f}x")
    print(f"  ratio forced-full unchanged / bare join: "
          f"{results['rescan 3: unchanged data, forced full'] / base:5.2f}x")
    print(f"  ratio unchanged rescan / first rescan:   "
          f"{results['rescan 2: unchanged data (incremental)'] / first:5.2f}x")
    for line in dask_lines:
        print(line)
    print(f"  peak RSS before the first rescan {rss[0]:.0f} MiB, after it {rss[1]:.0f} MiB "
          f"(+{rss[1] - rss[0]:.0f} MiB)")
    for note in notes:
        print(f"  - {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--city", action="store_true", help="3,000 campuses × 100,000 premises")
    which.add_argument("--nation", action="store_true", help="500,000 × 5,000,000 (× --scale)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply both sizes")
    parser.add_argument("--dask", action="store_true",
                        help="also rescan on a local Dask cluster (1, then 2 workers) over "
                        "two local replicas")
    args = parser.parse_args()
    base = nation() if args.nation else city()
    spec = Spec(base.name, max(1, round(base.schools * args.scale)),
                max(1, round(base.premises * args.scale)), base.seed, base.centres)
    started = time.perf_counter()
    run(spec, dask=args.dask)
    print(f"  (whole benchmark {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
