"""Partitions of a distributed rescan: split by region code, measured on a read replica.

A partition is the premises of one region-code prefix (province, then city, county… while it
holds more premises than the target), or those without a region. Each premises belongs to
exactly one partition, so each (premises, school) pair is measured exactly once. The schools
are not split: a partition measures every school whose footprint lies within reach of one of
its premises, wherever its own region code is, so no pair across a partition's border is
missed (the box of the partition's points and doors, grown by the largest reach, finds them
through the schools' GiST index; the exact per-pair tests of the measurement then apply).

`measure_partition` runs on a Dask worker: it waits until its replica has replayed the
primary's WAL up to the scan's start (never measuring older data than the primary's), then
measures and judges exactly as the single-machine scan does and returns the hits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from spatial.walking import make_walker
from zoneguard.errors import ReplicaLagging, ScanPartitionFailed
from zoneguard.services import scan_sql as q
from zoneguard.services.scan_diff import MEASURE_PLANNER, planner_settings, stream_rows
from zoneguard.services.scan_judge import DEFAULT_REACH_M, Plan
from zoneguard.services.scan_spill import HitSpill

LEVELS = (2, 4, 6, 9, 12)  # GB/T 2260 province, city, county; township, village
_SCANNED = "p.status IN ('active', 'suspended') " \
    "AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')"
PREMISES_PART = """AND (CASE WHEN CAST(:part_level AS int) = 0 THEN p.region IS NULL
      ELSE left(p.region, CAST(:part_level AS int)) = CAST(:part_key AS text) END)"""
SCHOOLS_PART = f"""AND geography(COALESCE(s.boundary, s.location)) && (
    SELECT _ST_Expand(geography(ST_Collect(t.g)),
                      :reach_max_m + {q.DOOR_SLACK_M} + :point_radius_m)
    FROM (SELECT p.location AS g FROM premises p WHERE {_SCANNED} {PREMISES_PART}
          UNION ALL
          SELECT p.entrance FROM premises p
          WHERE p.entrance IS NOT NULL AND {_SCANNED} {PREMISES_PART}) t)"""
_COUNT = f"""
SELECT left(p.region, CAST(:level AS int)) AS key,
       count(*) AS n
FROM premises p
WHERE {_SCANNED} AND (CAST(:parent AS text) IS NULL
                      OR left(p.region, CAST(:parent_level AS int)) = CAST(:parent AS text))
GROUP BY 1
"""


@dataclass(frozen=True)
class Group:
    """The premises of one partition: region codes starting with `key` at `level` digits."""

    level: int  # 0: premises without a region code
    key: str | None
    premises: int

    @property
    def label(self) -> str:
        """How people read the partition: its region code, or 无区划代码."""
        return self.key if self.key is not None else "无区划代码"


def plan_groups(conn: Connection, *, region: str | None, target: int) -> list[Group]:
    """Partitions of at most `target` premises where region codes allow, largest first."""
    def count(level: int, parent: Group | None) -> list[Group]:
        rows = conn.execute(text(_COUNT), {
            "level": level, "region": region, "parent": parent.key if parent else None,
            "parent_level": parent.level if parent else 0}).all()
        return [Group(0, None, int(r.n)) if r.key is None else Group(level, r.key, int(r.n))
                for r in rows]

    done: list[Group] = []
    todo = count(LEVELS[0], None)
    while todo:
        group = todo.pop()
        deeper = [lv for lv in LEVELS if lv > group.level]
        if group.premises <= target or group.key is None or len(group.key) < group.level \
                or not deeper:
            done.append(group)  # small enough, or no longer code to split it by
            continue
        todo.extend(count(deeper[0], group))
    return sorted(done, key=lambda g: (-g.premises, g.level, g.key or ""))


@dataclass(frozen=True)
class PartitionTask:
    """Everything a worker needs to measure one partition (pickled to the worker)."""

    number: int
    group: Group
    url: str
    plan: Plan
    params: dict[str, Any]
    target_lsn: str
    wait_s: float


@dataclass(frozen=True)
class PartitionResult:
    """The hits of one partition and how long it took."""

    number: int
    group: Group
    replica: str
    pairs: int
    hits: list[tuple[Any, ...]]
    seconds: float


def where(url: str) -> str:
    """A replica's address for people: host, port and database, never the password."""
    parsed = make_url(url)
    host = parsed.host or str(parsed.query.get("host", "local socket"))
    return f"{host}:{parsed.port or parsed.query.get('port', 5432)}/{parsed.database}"


def wait_for_replay(conn: Connection, target_lsn: str, wait_s: float, replica: str) -> None:
    """Wait until the replica has replayed the primary's WAL up to `target_lsn`.

    A server that is not in recovery (the primary itself listed as a read URL) passes at once.
    """
    deadline = time.monotonic() + wait_s
    while True:
        row = conn.execute(text(
            "SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed, "
            "COALESCE(pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn), false) AS caught_up"),
            {"t": target_lsn}).one()
        conn.rollback()
        if not row.standby or row.caught_up:
            return
        if time.monotonic() >= deadline:
            raise ReplicaLagging(
                f"只读副本 {replica} 在 {wait_s:g} 秒内未追上主库（已回放至 {row.replayed}，"
                f"本次扫描需至 {target_lsn}），为免按旧数据测量，分区未测量")
        time.sleep(0.05)


def _measure(conn: Connection, task: PartitionTask) -> tuple[int, list[tuple[Any, ...]]]:
    plan = task.plan
    params = {**task.params, "part_level": task.group.level, "part_key": task.group.key}
    sql = q.measure_sql(incremental=plan.incremental, premises_part=PREMISES_PART,
                        schools_part=SCHOOLS_PART)
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    walker = make_walker(conn, max_snap_m=plan.walking_snap_max_m,
                         reach_m=plan.rules.max_distance_m() or DEFAULT_REACH_M)
    with HitSpill() as spill:
        with planner_settings(conn, MEASURE_PLANNER), \
                stream_rows(conn, sql, params) as (columns, rows):
            spill.judge(columns, rows, plan, walker)
        spill.walk(walker)
        return spill.pairs, list(spill.rows())


def measure_partition(task: PartitionTask) -> PartitionResult:
    """Measure and judge one partition on its replica (runs on a Dask worker)."""
    started = time.perf_counter()
    replica = where(task.url)
    engine = create_engine(task.url, poolclass=NullPool,
                           connect_args={"application_name": "zoneguard-scan-partition"})
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TIME ZONE 'UTC'"))
            wait_for_replay(conn, task.target_lsn, task.wait_s, replica)
            pairs, hits = _measure(conn, task)
            conn.rollback()
    except ScanPartitionFailed:
        raise
    except Exception as exc:  # the driver's errors may not pickle: send the text back
        raise ScanPartitionFailed(
            f"分区 {task.group.label} 在只读副本 {replica} 上测量失败："
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        engine.dispose()
    return PartitionResult(task.number, task.group, replica, pairs, hits,
                           time.perf_counter() - started)
