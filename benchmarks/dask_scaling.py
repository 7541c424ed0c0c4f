"""The `--dask` part of `bench_scan`: 1 → 2 Dask workers on two local replicas, and a model.

Two streaming replicas of the benchmark's cluster (`zoneguard.db.replica`) and a `LocalCluster`
of worker processes: the same forced-full rescan of unchanged data with one worker, then two
(each partition on a replica in turn). From the one-worker run's per-partition times (a worker
alone on the machine), the time on N machines is modelled as the coordinator's serial part
plus the longest-processing-time-first schedule of the partitions on N workers, but never
less than the coordinator's COPY of every hit (one primary transaction).
"""

from __future__ import annotations

import heapq
from typing import Any

from sqlalchemy import Engine

from zoneguard.db.embedded import EmbeddedCluster
from zoneguard.db.replica import ReplicaCluster
from zoneguard.services.scan import ScanSummary, run_scan
from zoneguard.settings import Settings

MACHINES = (1, 2, 4, 8, 16, 32, 64)


def lpt_makespan(seconds: list[float], workers: int) -> float:
    """Longest-processing-time-first schedule of tasks on `workers`: the last finish time."""
    loads = [0.0] * workers
    heapq.heapify(loads)
    for task in sorted(seconds, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + task)
    return max(loads)


def model(summary: ScanSummary) -> list[tuple[int, float]]:
    """Modelled rescan seconds on N machines (one worker each) from a one-worker run."""
    tasks = [p["seconds"] for p in summary.partitions]
    copy = sum(p["copy_seconds"] for p in summary.partitions)
    phase = summary.seconds.get("partitions+copy", sum(tasks) + copy)
    serial = summary.duration_s - phase  # plan, partition, merge: on the primary, once
    return [(n, serial + max(lpt_makespan(tasks, n), copy)) for n in MACHINES]


def run_dask(settings: Settings, engine: Engine, results: dict[str, float],
             notes: list[str]) -> list[str]:
    """Forced-full rescans with 1 and 2 workers on two replicas; lines of speed-up and model."""
    from distributed import LocalCluster

    primary = EmbeddedCluster(settings.home, server_user=settings.server_user)
    copies = [ReplicaCluster(primary, n) for n in (1, 2)]
    runs: dict[int, ScanSummary] = {}
    try:
        for replica in copies:
            replica.up()
        for workers in (1, 2):
            with LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None) as cluster:
                label = f"rescan on Dask, {workers} worker(s), 2 replicas (forced full)"
                summary = run_scan(engine, trigger="manual", settings=settings, full=True,
                                   dask=cluster.scheduler_address)
                results[label] = summary.duration_s
                runs[workers] = summary
                phases = ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items())
                notes.append(f"{label}: {len(summary.partitions)} partitions, "
                             f"{summary.pairs:,} pairs, open {summary.open:,}; {phases}")
    finally:
        for replica in copies:
            replica.destroy()
    one, two = runs[1], runs[2]
    return [f"  Dask speed-up 1 → 2 workers:             {one.duration_s / two.duration_s:5.2f}x",
            *_model_lines(one)]


def _model_lines(one: ScanSummary) -> list[str]:
    parts: list[dict[str, Any]] = one.partitions
    tasks = sorted((p["seconds"] for p in parts), reverse=True)
    lines = [f"  partitions: {len(parts)}, per-partition seconds max {tasks[0]:.2f}, "
          f"median {tasks[len(tasks) // 2]:.2f}, sum {sum(tasks):.2f}; coordinator COPY "
          f"{sum(p['copy_seconds'] for p in parts):.2f} s",
             "  modelled rescan on N machines (one worker each, from the 1-worker run):"]
    return lines + [f"    N = {n:3d}: {seconds:8.2f} s  ({one.duration_s / seconds:5.2f}x)"
                    for n, seconds in model(one)]
