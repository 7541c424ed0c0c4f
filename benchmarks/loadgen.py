"""Open-loop HTTP load on POST /api/v1/screenings over hand-written keep-alive connections.

The client sends at a fixed rate whatever the answers do and measures each latency from the
moment the request was due, so queueing in the server shows (no coordinated omission). It
speaks HTTP/1.1 over asyncio streams, so it costs far less CPU than the server it measures.
It runs in a process of its own (`python -m benchmarks.loadgen`), printing one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("internet_cafe", "tobacco", "lottery", "entertainment")
TIMEOUT_S = 5.0
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def points(n: int, seed: int) -> list[tuple[float, float]]:
    """`n` applied-for points around the synthetic city's centre."""
    rng = np.random.default_rng(seed)
    return [(114.0 + dx, 30.5 + dy) for dx, dy in rng.normal(0, 0.06, (n, 2))]


class Connections:
    """A bounded pool of keep-alive connections to one host."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: deque[Conn] = deque()  # oldest first: every connection takes its turn
        self.opened = 0
        self.free = asyncio.Condition()

    async def acquire(self, fresh: bool = False) -> tuple[asyncio.StreamReader,
                                                          asyncio.StreamWriter, bool]:
        """A connection and whether it was reused (a reused one may have been closed idle)."""
        async with self.free:
            while not self.idle and self.opened >= self.limit:
                await self.free.wait()
            if self.idle and not fresh:
                reader, writer = self.idle.popleft()
                return reader, writer, True
            self.opened += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except BaseException:
            await self.release(None)
            raise
        return reader, writer, False

    async def release(self, conn: Conn | None) -> None:
        """Give a connection back (None: it was closed)."""
        async with self.free:
            if conn is None:
                self.opened -= 1
            else:
                self.idle.append(conn)
            self.free.notify()

    async def close(self) -> None:
        """Close the idle connections."""
        for _, writer in self.idle:
            writer.close()


class _Stale(Exception):
    """The server had closed a reused keep-alive connection before this request."""


async def _exchange(conns: Connections, head: bytes, body: bytes,
                    fresh: bool) -> tuple[int, bytes]:
    reader, writer, reused = await conns.acquire(fresh)
    try:
        writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            status_line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            if reused:
                raise _Stale() from None
            raise
        length, close = 0, False
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await reader.readexactly(length)
    except BaseException:
        writer.close()
        await conns.release(None)
        raise
    if close:
        writer.close()
        await conns.release(None)
    else:
        await conns.release((reader, writer))
    return int(status_line.split()[1]), payload


async def post(conns: Connections, head: bytes, body: bytes) -> tuple[int, bytes]:
    """Send one request; an idle connection the server had closed is retried on a new one."""
    try:
        return await _exchange(conns, head, body, fresh=False)
    except _Stale:
        return await _exchange(conns, head, body, fresh=True)


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.array(values) * 1000, q)), 2) if values else None


async def load(base: str, token: str, rate: float, seconds: float, seed: int,
               keep_ids: bool = False) -> dict[str, Any]:
    """Send `rate` screenings per second for `seconds`; summarise what came back."""
    n = int(rate * seconds)
    where = points(n, seed)
    by_status: dict[str, list[float]] = {}
    ids: list[int] = []
    host, port = base.removeprefix("http://").split(":")
    conns = Connections(host, int(port), limit=512)
    head = (f"POST /api/v1/screenings HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: ").encode()

    async def one(i: int, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        body = json.dumps({"category": CATEGORIES[i % len(CATEGORIES)],
                           "location": {"lon": where[i][0], "lat": where[i][1]},
                           "on": "2026-09-01"}).encode()
        try:
            status, payload = await asyncio.wait_for(post(conns, head, body), timeout=TIMEOUT_S)
            key = str(status)
            if keep_ids and status == 201:
                ids.append(int(json.loads(payload)["id"]))
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            key = type(exc).__name__
        by_status.setdefault(key, []).append(time.perf_counter() - due)

    start = time.perf_counter() + 0.2
    tasks = [asyncio.ensure_future(one(i, start + i / rate)) for i in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + TIMEOUT_S + 5)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
        by_status["unfinished"] = [float("nan")] * len(pending)
    elapsed = max(time.perf_counter() - start, seconds)
    await conns.close()
    served = [v for k, vs in by_status.items() if k.startswith("2") for v in vs]
    shed = by_status.get("503", [])
    answered = sum(len(vs) for k, vs in by_status.items() if k.isdigit())
    return {"rate": rate, "sent": n, "seconds": round(elapsed, 2),
            "achieved_rps": round(answered / elapsed, 1),
            "goodput_rps": round(len(served) / elapsed, 1),
            "served": len(served), "served_p50_ms": _ms(served, 50),
            "served_p99_ms": _ms(served, 99), "shed": len(shed), "shed_p50_ms": _ms(shed, 50),
            "shed_p99_ms": _ms(shed, 99),
            "statuses": {k: len(vs) for k, vs in sorted(by_status.items())},
            **({"ids": ids} if keep_ids else {})}


def run(base: str, token: str, rate: float, seconds: float, seed: int,
        keep_ids: bool = False) -> dict[str, Any]:
    """Run the load in a process of its own (it must not share the server's CPU budget).

    `BENCH_LOADGEN_NICE` (e.g. -10, as root) runs it at that scheduling priority and
    `BENCH_LOADGEN_CPU` (e.g. 1) pins it to that core, so that on a machine whose cores the
    server also uses the generator still sends and reads on time.
    """
    prefix = []
    if os.environ.get("BENCH_LOADGEN_NICE"):
        prefix += ["nice", "-n", os.environ["BENCH_LOADGEN_NICE"]]
    if os.environ.get("BENCH_LOADGEN_CPU"):
        prefix += ["taskset", "-c", os.environ["BENCH_LOADGEN_CPU"]]
    command = [*prefix, sys.executable, "-m", "benchmarks.loadgen", "--base", base,
               "--token", token, "--rate", str(rate), "--seconds", str(seconds),
               "--seed", str(seed)]
    out = subprocess.run(command + (["--ids"] if keep_ids else []), cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         timeout=seconds + TIMEOUT_S + 60)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def line(r: dict[str, Any]) -> str:
    """One table row of a run."""
    def f(v: object) -> str:
        return "     -" if v is None else f"{v:6.1f}"

    other = {k: v for k, v in r["statuses"].items() if k not in ("201", "503")}
    return (f"{r['rate']:6.0f} {r['achieved_rps']:8.1f} {r['goodput_rps']:8.1f} "
            f"{f(r['served_p50_ms'])} {f(r['served_p99_ms'])} {r['shed']:6d} "
            f"{f(r['shed_p50_ms'])} {f(r['shed_p99_ms'])}  {other or ''}")


HEADER = ("offered achieved  goodput  p50 ms  p99 ms   shed shed50 shed99  other\n"
          " req/s    req/s    req/s  served  served    503     ms     ms")


def main() -> None:
    """Entry of the load process: one run, one JSON line on stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ids", action="store_true")
    args = parser.parse_args()
    import uvloop  # the cheaper event loop: the generator takes less of the shared CPU

    result = uvloop.run(load(args.base, args.token, args.rate, args.seconds, args.seed,
                             keep_ids=args.ids))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
