"""HTTP load on POST /api/v1/screenings: a synthetic city (3,000 campuses), uvicorn in one
process, an open-loop httpx client in another, both on loopback.

The client sends at a fixed rate whatever the answers do (open loop) and measures each latency
from the moment the request was due, so queueing in the server shows (no coordinated omission);
it speaks keep-alive HTTP/1.1 over asyncio streams, so it costs little CPU beside the server.
Target on a 2-core machine: p99 <= 20 ms at 300 requests/s, no errors.

Run: .venv/bin/python -m benchmarks.bench_api [--rates 100,300,450] [--seconds 20] [--workers 2]
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


class _Connections:
    """Keep-alive HTTP/1.1 connections written by hand: the client must cost far less CPU than
    the server it measures (httpx costs about as much per request as the server itself)."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.free = asyncio.Condition()

    async def acquire(self, fresh: bool = False) -> tuple[asyncio.StreamReader,
                                                          asyncio.StreamWriter, bool]:
        """A connection and whether it was reused (a reused one may have been closed idle)."""
        async with self.free:
            while not self.idle and self.opened >= self.limit:
                await self.free.wait()
            if self.idle and not fresh:
                reader, writer = self.idle.pop()
                return reader, writer, True
            self.opened += 1
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return reader, writer, False

    async def release(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        async with self.free:
            if conn is None:
                self.opened -= 1
            else:
                self.idle.append(conn)
            self.free.notify()

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


class _StaleConnection(Exception):
    """The server had closed a reused keep-alive connection before this request."""


async def _exchange(conns: _Connections, head: bytes, body: bytes, fresh: bool) -> int:
    reader, writer, reused = await conns.acquire(fresh)
    try:
        writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            status_line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            if reused:
                raise _StaleConnection() from None
            raise
        length = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
    except BaseException:
        writer.close()
        await conns.release(None)
        raise
    await conns.release((reader, writer))
    return int(status_line.split()[1])


async def _post(conns: _Connections, head: bytes, body: bytes) -> int:
    """Send one request; an idle connection the server had closed is retried on a new one."""
    try:
        return await _exchange(conns, head, body, fresh=False)
    except _StaleConnection:
        return await _exchange(conns, head, body, fresh=True)


async def _load(base: str, token: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """Send `rate` screenings per second for `seconds`; return latencies and errors."""
    n = int(rate * seconds)
    points = _points(n, seed)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    host, port = base.removeprefix("http://").split(":")
    conns = _Connections(host, int(port), limit=256)
    head = (f"POST /api/v1/screenings HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: ").encode()

    async def one(i: int, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        body = json.dumps({"category": CATEGORIES[i % len(CATEGORIES)],
                           "location": {"lon": points[i][0], "lat": points[i][1]},
                           "on": "2026-09-01"}).encode()
        try:
            key = str(await asyncio.wait_for(_post(conns, head, body), timeout=5))
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            key = type(exc).__name__
        latencies.append(time.perf_counter() - due)
        statuses[key] = statuses.get(key, 0) + 1

    start = time.perf_counter() + 0.2
    tasks = [asyncio.ensure_future(one(i, start + i / rate)) for i in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + 10)
    for task in pending:  # a bounded run: what has not finished by then is an error
        task.cancel()
    if pending:
        statuses["unfinished"] = len(pending)
        await asyncio.wait(pending)
    elapsed = time.perf_counter() - start
    await conns.close()
    arr = np.array(latencies or [float("nan")]) * 1000
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
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=seconds + 60)
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
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.client:
        _client_main(args)
        return
    with scratch_database() as (settings, engine):
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            loaded = synthetic.load(raw, synthetic.city(premises=1_000))
            conn.execute(text("ANALYZE"))
        with Session(engine) as session:
            token = create_key(session, role="admin", name="bench").token
            session.commit()
        if os.environ.get("BENCH_ASYNC_COMMIT"):  # diagnosis only: is the WAL fsync the limit?
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ALTER SYSTEM SET synchronous_commit = off"))
                conn.execute(text("SELECT pg_reload_conf()"))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ZONEGUARD_HOME": str(settings.home)}
        env.pop("ZONEGUARD_DATABASE_URL", None)
        log_path = Path(settings.home) / "server.log"
        server_log = log_path.open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app_factory", "--factory", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--log-level",
             "warning", "--no-access-log"], cwd=ROOT, env=env, stdout=server_log,
            stderr=subprocess.STDOUT)
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
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server_log.close()
        errors = sum(1 for line in log_path.read_text().splitlines() if "failed" in line
                     or "Error" in line)
        print(f"server log: {errors} error lines")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM screening")).scalar_one()
        print(f"screenings stored: {stored}")


if __name__ == "__main__":
    main()
