"""HTTP load on POST /api/v1/screenings: a synthetic city (3,000 campuses), uvicorn workers in
their own process group, an open-loop client (`benchmarks.loadgen`) in another process, all on
loopback.

For each offered rate it prints the achieved rate (answers per second), the goodput (201s
per second), p50/p99 of the served requests, and how many were shed (503) and how fast. Past
capacity the workers shed the excess (ZONEGUARD_MAX_IN_FLIGHT) instead of queueing it, so the
goodput stays near capacity. The workers are always stopped (`benchmarks.server`).

Run: .venv/bin/python -m benchmarks.bench_api [--rates 100,200,300,450] [--seconds 20]
     [--workers 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks import loadgen, synthetic
from benchmarks.common import scratch_database
from benchmarks.server import group_alive, serving
from zoneguard.services.access.keys import create_key


def main() -> None:
    """Load the city, serve it, run each rate, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="100,200,300,450")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with scratch_database() as (settings, engine):
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            loaded = synthetic.load(raw, synthetic.city(premises=1_000))
            conn.execute(text("ANALYZE"))
        with Session(engine) as session:
            token = create_key(session, role="admin", name="bench").token
            session.commit()
        env = {**os.environ, "ZONEGUARD_HOME": str(settings.home)}
        env.pop("ZONEGUARD_DATABASE_URL", None)
        log_path = Path(settings.home) / "server.log"
        with serving(env, workers=args.workers, log_path=log_path) as (base, server):
            loadgen.run(base, token, 100, 5, seed=1)  # warm-up: connections, plans, caches
            print(f"city: {loaded.schools} campuses; uvicorn workers: {args.workers}; "
                  f"open-loop load for {args.seconds:g} s per rate")
            print(loadgen.HEADER)
            for rate in (float(r) for r in args.rates.split(",")):
                print(loadgen.line(loadgen.run(base, token, rate, args.seconds,
                                               seed=int(rate))), flush=True)
            pgid = server.pid
        print(f"server process group left running: {'yes' if group_alive(pgid) else 'no'}")
        errors = sum(1 for line in log_path.read_text().splitlines() if "failed" in line
                     or "Error" in line)
        print(f"server log: {errors} error lines")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM screening")).scalar_one()
        print(f"screenings stored: {stored}")


if __name__ == "__main__":
    main()
