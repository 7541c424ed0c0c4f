"""The `--dask` part of `bench_scan`: 1 → 2 Dask workers on two local replicas, and a model.

Two streaming replicas of the benchmark's cluster (`zoneguard.db.replica`) and a `LocalCluster`
of worker processes: the same forced-full rescan of unchanged data with one worker, then two
(each partition on a replica in turn); one warm-up run per cluster (worker imports, replica
caches), then the best of `REPEAT` runs. From the one-worker run's per-partition times (a worker
alone on the machine), the time on N machines is modelled as the coordinator's serial part
plus the longest-processing-time-first schedule of the region groups (each group's measured
time) on N workers, but never less than the coordinator's COPY of every hit (one primary
transaction). Per-task connection and replay-wait times (milliseconds) are left out.
"""

from __future__ import annotations

import heapq
from typing import Any

from sqlalchemy import Engine

from zoneguard.db.embedded import EmbeddedCluster
from zoneguard.db.replica import ReplicaCluster
from zoneguard.services.scan.run import ScanSummary, run_scan
from zoneguard.settings import Settings

MACHINES = (1, 2, 4, 8, 16, 32, 64)
REPEAT = 2  # timed runs per worker count (after one warm-up run); the best is kept


def lpt_makespan(seconds: list[float], workers: int) -> float:
    """Longest-processing-time-first schedule of tasks on `workers`: the last finish time."""
    loads = [0.0] * workers
    heapq.heapify(loads)
    for task in sorted(seconds, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + task)
    return max(loads)


def model(summary: ScanSummary) -> list[tuple[int, float]]:
    """Modelled rescan seconds on N machines (one worker each) from a one-worker run."""
    tasks = [s for p in summary.partitions for s in p["group_seconds"]]  # region groups
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
                best: ScanSummary | None = None
                for _ in range(1 + REPEAT):  # the first warms workers (imports) and replicas
                    summary = run_scan(engine, trigger="manual", settings=settings, full=True,
                                       dask=cluster.scheduler_address)
                    if _ and (best is None or summary.duration_s < best.duration_s):
                        best = summary
                assert best is not None
                results[label] = best.duration_s
                runs[workers] = best
                phases = ", ".join(f"{k} {v:.2f}" for k, v in best.seconds.items())
                notes.append(f"{label}: best of {REPEAT} after a warm-up, "
                             f"{len(best.partitions)} tasks, {best.pairs:,} pairs, "
                             f"open {best.open:,}; {phases}")
    finally:
        for replica in copies:
            replica.destroy()
    one, two = runs[1], runs[2]
    return [f"  Dask speed-up 1 → 2 workers:             {one.duration_s / two.duration_s:5.2f}x",
            *_model_lines(one)]


def _model_lines(one: ScanSummary) -> list[str]:
    parts: list[dict[str, Any]] = one.partitions
    tasks = sorted((s for p in parts for s in p["group_seconds"]), reverse=True)
    lines = [f"  tasks: {len(parts)}, region groups: {len(tasks)}, per-group seconds max "
             f"{tasks[0]:.2f}, median {tasks[len(tasks) // 2]:.2f}, sum {sum(tasks):.2f}; "
             f"coordinator COPY {sum(p['copy_seconds'] for p in parts):.2f} s",
             "  modelled rescan on N machines (one worker each, from the 1-worker run):"]
    return lines + [f"    N = {n:3d}: {seconds:8.2f} s  ({one.duration_s / seconds:5.2f}x)"
                    for n, seconds in model(one)]
