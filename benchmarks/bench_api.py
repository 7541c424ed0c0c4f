"""HTTP load on POST /api/v1/screenings: a synthetic city (3,000 campuses), uvicorn in one
process, an open-loop httpx client in another, both on loopback.

The client sends at a fixed rate whatever the answers do (open loop) and measures each latency
from the moment the request was due, so queueing in the server shows (no coordinated omission).
Target on a 2-core machine: p99 <= 20 ms at 300 requests/s, no errors.

Run: .venv/bin/python -m benchmarks.bench_api [--rates 100,300,450] [--seconds 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks import synthetic
from benchmarks.common import scratch_database
from zoneguard.services.keys import create_key

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("internet_cafe", "tobacco", "lottery", "entertainment")


def _points(n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return [(114.0 + dx, 30.5 + dy) for dx, dy in rng.normal(0, 0.06, (n, 2))]


async def _load(base: str, token: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """Send `rate` screenings per second for `seconds`; return latencies and errors."""
    n = int(rate * seconds)
    points = _points(n, seed)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:

        async def one(i: int, due: float) -> None:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body = {"category": CATEGORIES[i % len(CATEGORIES)],
                    "location": {"lon": points[i][0], "lat": points[i][1]}, "on": "2026-09-01"}
            try:
                response = await client.post("/api/v1/screenings", json=body)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            latencies.append(time.perf_counter() - due)
            statuses[key] = statuses.get(key, 0) + 1

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, start + i / rate) for i in range(n)))
        elapsed = time.perf_counter() - start
    arr = np.array(latencies) * 1000
    return {"rate": rate, "sent": n, "achieved_rps": round(n / elapsed, 1),
            "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2),
            "p99_ms": round(float(np.percentile(arr, 99)), 2),
            "max_ms": round(float(arr.max()), 2), "statuses": statuses}


def _client_main(args: argparse.Namespace) -> None:
    result = asyncio.run(_load(args.base, args.token, args.rate, args.seconds, args.seed))
    sys.stdout.write(json.dumps(result) + "\n")


def _run_client(base: str, token: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """The load generator runs in its own process, so it does not share the server's GIL."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_api", "--client", "--base", base,
         "--token", token, "--rate", str(rate), "--seconds", str(seconds), "--seed", str(seed)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=seconds * 10 + 120)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base")
    parser.add_argument("--token")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rates", default="100,300,450")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.client:
        _client_main(args)
        return
    with scratch_database() as (settings, engine):
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            loaded = synthetic.load(raw, synthetic.city(premises=1_000))  # type: ignore[arg-type]
            conn.execute(text("ANALYZE"))
        with Session(engine) as session:
            token = create_key(session, role="admin", name="bench").token
            session.commit()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ZONEGUARD_HOME": str(settings.home)}
        env.pop("ZONEGUARD_DATABASE_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app_factory", "--factory", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--log-level",
             "warning", "--no-access-log"], cwd=ROOT, env=env)
        try:
            _wait_ready(base, server)
            _run_client(base, token, 100, 5, seed=1)  # warm-up: connections, plans, caches
            print(f"city: {loaded.schools} campuses; uvicorn workers: {args.workers}; "
                  f"open-loop load for {args.seconds:g} s per rate")
            for rate in (float(r) for r in args.rates.split(",")):
                r = _run_client(base, token, rate, args.seconds, seed=int(rate))
                print(f"target {r['rate']:6.0f} req/s  achieved {r['achieved_rps']:6.1f} req/s  "
                      f"p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  "
                      f"p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:7.2f} ms  {r['statuses']}")
        finally:
            server.terminate()
            server.wait(timeout=30)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM screening")).scalar_one()
        print(f"screenings stored: {stored}")


if __name__ == "__main__":
    main()
