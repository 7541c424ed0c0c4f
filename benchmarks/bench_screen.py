"""Screening latency on the synthetic city (3,000 campuses): the indexed lookup of `screen()`
(in-process, warm) vs the naive way — every campus measured without the index.

Run: .venv/bin/python -m benchmarks.bench_screen [--n 2000]
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks import synthetic
from benchmarks.common import scratch_database
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening import screen

NAIVE = """
SELECT s.id, ST_Distance(geography(COALESCE(s.boundary, s.location)),
                         geography(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))) AS d
FROM school s
WHERE ST_Distance(geography(COALESCE(s.boundary, s.location)),
                  geography(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))) <= :radius
"""


def _percentiles(samples: list[float]) -> str:
    arr = np.array(samples) * 1000
    return (f"p50 {np.percentile(arr, 50):6.2f} ms  p95 {np.percentile(arr, 95):6.2f} ms  "
            f"p99 {np.percentile(arr, 99):6.2f} ms  max {arr.max():6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    with scratch_database() as (settings, engine):
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            loaded = synthetic.load(raw, synthetic.city(premises=1_000))  # type: ignore[arg-type]
            conn.execute(text("ANALYZE"))
        rules = current_rule_set(settings)
        rng = np.random.default_rng(5)
        points = [(114.0 + dx, 30.5 + dy) for dx, dy in rng.normal(0, 0.06, (args.n, 2))]
        categories = ["internet_cafe", "tobacco", "lottery", "entertainment"]
        verdicts: dict[str, int] = {}
        lookup, stored, naive = [], [], []
        with Session(engine) as session:
            for i in range(200):  # warm-up: connection, PROJ objects, plans
                screen(session, category="tobacco", point=points[i], settings=settings,
                       rule_set=rules, store=False, on=date(2026, 9, 1))
            for i, point in enumerate(points):
                start = time.perf_counter()
                result = screen(session, category=categories[i % 4], point=point,
                                settings=settings, rule_set=rules, store=False,
                                on=date(2026, 9, 1))
                lookup.append(time.perf_counter() - start)
                verdicts[result.verdict.value] = verdicts.get(result.verdict.value, 0) + 1
            for point in points[:500]:
                start = time.perf_counter()
                screen(session, category="tobacco", point=point, settings=settings,
                       rule_set=rules, store=True, on=date(2026, 9, 1))
                stored.append(time.perf_counter() - start)
            session.rollback()
            for point in points[:100]:
                start = time.perf_counter()
                session.execute(text(NAIVE), {"lon": point[0], "lat": point[1],
                                              "radius": 354.0}).all()
                naive.append(time.perf_counter() - start)
    print(f"city: {loaded.schools} campuses, {loaded.gates} gates; {args.n} screenings; "
          f"verdicts {verdicts}")
    print(f"screen() lookup, warm, no record : {_percentiles(lookup)}")
    print(f"screen() with the stored record  : {_percentiles(stored)}")
    print(f"naive: every campus measured     : {_percentiles(naive)}")
    print(f"ratio naive / indexed (median)   : "
          f"{np.median(naive) / np.median(lookup):.1f}x")


if __name__ == "__main__":
    main()
