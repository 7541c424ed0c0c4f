"""Distributed rescans: partitions measured on Dask workers against read replicas.

The coordinator is the ordinary scan (`scan.run_scan`): it holds the scan lock on the primary
and its one transaction. In that transaction it notes the primary's WAL position, splits the
premises into partitions (`scan_partition.plan_groups`, balanced by premises count), and
submits one Dask task per partition, largest first, each to a read replica in turn
(`ZONEGUARD_READ_DATABASE_URLS`, or the local replicas of the embedded cluster). Each task
waits until its replica has replayed the primary up to that position, measures and judges,
and returns its hits; the coordinator copies them into `scan_hit` as the tasks finish (its
memory holds one partition's hits) and then runs the same set-based merge as a
single-machine scan.

Why one transaction on the primary for all partitions, not one per partition: findings that
are no longer measured are resolved by comparing every open finding of the scope with the
hits of the whole scan, and a partition committed on its own would leave the findings half
old, half new when a later partition fails. So the workers only read replicas; nothing is
written until every partition has succeeded, and a failed, killed or lagging partition fails
the scan (its row says which partition and why, in Chinese) and changes no finding. The
advisory lock keeps a second scan from running meanwhile, as on a single machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from zoneguard.db.embedded import cluster_for
from zoneguard.errors import ScanPartitionFailed
from zoneguard.services.scan.diff import copy_hits
from zoneguard.services.scan.judge import Plan
from zoneguard.services.scan.partition import (
    PartitionResult,
    PartitionTask,
    label,
    measure_partition,
    pack,
    plan_groups,
    region_counts,
)
from zoneguard.settings import Settings

PARTITIONS_PER_WORKER = 4  # several per worker: Dask balances what the sizes do not


def _normalise(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def read_urls(settings: Settings, database: str | None) -> list[str]:
    """The read replicas: the configured URLs, else the running local replicas."""
    if settings.read_urls:
        return [_normalise(u) for u in settings.read_urls]
    if settings.database_url is None and database:
        from zoneguard.db.replica import replica_url, replicas

        return [replica_url(r, database) for r in replicas(cluster_for(settings))
                if r.status().running]
    return []


@dataclass
class PartitionTiming:
    """When and where one partition was measured (benchmarks extrapolate from these)."""

    region: str
    premises: int
    pairs: int
    hits: int
    seconds: float  # on the worker: waiting for the replica, measuring, judging
    replica: str
    copy_seconds: float = 0.0  # on the coordinator: COPY of its hits into `scan_hit`
    phases: dict[str, float] = field(default_factory=dict)  # on the worker
    started_at: float = 0.0  # epoch seconds on the worker
    group_seconds: list[float] = field(default_factory=list)  # each group's measurement


@dataclass
class DaskFill:
    """Fills `scan_hit` from partitions measured on a Dask cluster (a `scan_diff.Fill`)."""

    settings: Settings
    scheduler: str
    partitions: list[PartitionTiming] = field(default_factory=list)

    def __call__(self, conn: Connection, plan: Plan, params: dict[str, Any],
                 lap: Callable[[str], None]) -> tuple[int, int]:
        """Measure every partition on the workers and copy their hits into `scan_hit`."""
        from distributed import Client

        urls = read_urls(self.settings, conn.engine.url.database)
        if not urls:
            raise ScanPartitionFailed(
                "分布式扫描需要只读副本：请设置 ZONEGUARD_READ_DATABASE_URLS，或运行 "
                "zoneguard db replica up；本次扫描未改动任何发现")
        target_lsn = str(conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one())
        try:
            client = Client(  # type: ignore[no-untyped-call]
                self.scheduler, timeout=30, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ScanPartitionFailed(f"无法连接 Dask 调度器 {self.scheduler}：{exc}；"
                                      "本次扫描未改动任何发现") from None
        with client:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            counts = region_counts(conn, region=plan.region)
            total = sum(n for _, n in counts)
            target = min(self.settings.scan_partition_premises,
                         max(1, math.ceil(total / (workers * PARTITIONS_PER_WORKER))))
            groups = plan_groups(counts, target=target)
            tasks = [PartitionTask(i, g, urls[i % len(urls)], plan, params, target_lsn,
                                   self.settings.replica_wait_s)
                     for i, g in enumerate(pack(groups, workers * PARTITIONS_PER_WORKER))]
            lap("partition")
            return self._run(client, conn, params, tasks, lap)

    def _run(self, client: Any, conn: Connection, params: dict[str, Any],
             tasks: list[PartitionTask], lap: Callable[[str], None]) -> tuple[int, int]:
        from distributed import as_completed

        stamp = f"{params['scan']}-{time.time_ns()}"
        futures = [client.submit(measure_partition, task, key=f"zoneguard-scan-{stamp}-{i}",
                                 priority=sum(g.premises for g in task.groups), pure=False,
                                 retries=0)
                   for i, task in enumerate(tasks)]
        number = {f.key: i for i, f in enumerate(futures)}
        pairs = hits = 0
        try:
            for future in as_completed(  # type: ignore[no-untyped-call]
                    futures, loop=client.loop):
                try:
                    result: PartitionResult = future.result()
                except ScanPartitionFailed:
                    raise
                except Exception as exc:  # a killed worker, a lost connection to the cluster
                    raise ScanPartitionFailed(f"分区 {tasks[number[future.key]].label} 失败"
                                              f"（{type(exc).__name__}: {exc}）") from exc
                copy_started = time.perf_counter()
                copy_hits(conn, result.hits)
                pairs, hits = pairs + result.pairs, hits + len(result.hits)
                self.partitions.append(PartitionTiming(
                    label(result.groups), sum(g.premises for g in result.groups), result.pairs,
                    len(result.hits), result.seconds, result.replica,
                    time.perf_counter() - copy_started, result.phases, result.started_at,
                    list(result.group_seconds)))
                future.release()
        except ScanPartitionFailed as exc:
            client.cancel(futures)
            raise type(exc)(f"{exc.detail}；本次扫描失败，未改动任何发现") from exc
        lap("partitions+copy")
        return pairs, hits
