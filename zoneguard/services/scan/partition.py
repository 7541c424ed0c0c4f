"""Partitions of a distributed rescan: split by region code, measured on a read replica.

A group is the premises of one region-code prefix (province, then city, county… while it
holds more premises than the target). Each premises belongs to
exactly one partition, so each (premises, school) pair is measured exactly once. The schools
are not split: a partition measures every school whose footprint lies within reach of one of
its premises, wherever its own region code is, so no pair across a partition's border is
missed (the box of the partition's points and doors, grown by the largest reach, finds them
through the schools' GiST index; the exact per-pair tests of the measurement then apply).

Groups are packed into a few balanced tasks per worker (`pack`: fewer connections and
round trips). `measure_partition` runs one task on a Dask worker: it waits until its replica
has replayed the primary's WAL up to the scan's start (never measuring older data than the
primary's), then measures each group and judges exactly as the single-machine scan does,
in one read-only snapshot, and returns the hits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from spatial.walking import make_walker
from zoneguard.errors import ReplicaLagging, ScanPartitionFailed
from zoneguard.rules import RuleSet
from zoneguard.services.scan import sql as q
from zoneguard.services.scan.diff import MEASURE_PLANNER, planner_settings, stream_rows
from zoneguard.services.scan.judge import DEFAULT_REACH_M, Plan
from zoneguard.services.scan.spill import HitSpill

LEVELS = (2, 4, 6, 9, 12)  # GB/T 2260 province, city, county; township, village
_SCANNED = "p.status IN ('active', 'suspended') " \
    "AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')"
# The premises of a partition, through the btree index on `region`: region codes are digits
# only (or ''), so a prefix is a range in every collation; a code shorter than its level
# (a city-level code among counties) is matched exactly.
_EXACT = "AND p.region = CAST(:part_low AS text)"
_RANGE = "AND p.region >= CAST(:part_low AS text) AND p.region < CAST(:part_high AS text)"
_FROM = "AND p.region >= CAST(:part_low AS text)"
_SCHOOLS = """AND geography(COALESCE(s.boundary, s.location)) && (
    SELECT _ST_Expand(geography(ST_Collect(t.g)), :reach_max_m + {slack} + :point_radius_m)
    FROM (SELECT p.location AS g FROM premises p WHERE {scanned} {part}
          UNION ALL
          SELECT p.entrance FROM premises p
          WHERE p.entrance IS NOT NULL AND {scanned} {part}) t)"""
_COUNT = f"SELECT p.region, count(*) AS n FROM premises p WHERE {_SCANNED} GROUP BY 1"


@dataclass(frozen=True)
class Group:
    """The premises of one partition: region codes starting with `key` at `level` digits."""

    level: int
    key: str
    premises: int

    @property
    def label(self) -> str:
        """How people read the partition: its region code, or 无区划代码."""
        return self.key or "无区划代码"

    def premises_part(self) -> tuple[str, dict[str, str]]:
        """SQL selecting the group's premises (alias `p`) and its bound parameters."""
        if len(self.key) < self.level:
            return _EXACT, {"part_low": self.key}
        if set(self.key) == {"9"}:
            return _FROM, {"part_low": self.key}
        return _RANGE, {"part_low": self.key,
                        "part_high": str(int(self.key) + 1).zfill(len(self.key))}

    def measure_sql(self, *, incremental: bool) -> tuple[str, dict[str, str]]:
        """The scan's measurement restricted to this group, and the group's parameters."""
        part, params = self.premises_part()
        schools = _SCHOOLS.format(slack=q.DOOR_SLACK_M, scanned=_SCANNED, part=part)
        return q.measure_sql(incremental=incremental, premises_part=part,
                             schools_part=schools), params


def region_counts(conn: Connection, *, region: str | None) -> list[tuple[str, int]]:
    """Scanned premises per region code (one pass over the premises)."""
    return [(r.region, int(r.n)) for r in conn.execute(text(_COUNT), {"region": region})]


def plan_groups(counts: list[tuple[str, int]], *, target: int) -> list[Group]:
    """Groups of at most `target` premises where region codes allow, largest first.

    The tree of region-code prefixes is cut in Python from `region_counts`: a prefix holding
    more than `target` premises is split by the next level.
    """

    def count(level: int, parent: Group | None) -> list[Group]:
        sums: dict[str, int] = {}
        for code, n in counts:
            if parent is None or code[:parent.level] == parent.key:
                sums[code[:level]] = sums.get(code[:level], 0) + n
        return [Group(level, key, n) for key, n in sums.items()]

    done: list[Group] = []
    todo = count(LEVELS[0], None)
    while todo:
        group = todo.pop()
        deeper = [lv for lv in LEVELS if lv > group.level]
        if group.premises <= target or len(group.key) < group.level or not deeper:
            done.append(group)  # small enough, or no longer code to split it by
            continue
        todo.extend(count(deeper[0], group))
    return sorted(done, key=lambda g: (-g.premises, g.level, g.key))


def pack(groups: list[Group], bins: int) -> list[tuple[Group, ...]]:
    """Groups into at most `bins` tasks of balanced premises (largest first, to the lightest)."""
    loads: list[list[Group]] = [[] for _ in range(min(bins, len(groups)))]
    sizes = [0] * len(loads)
    for group in sorted(groups, key=lambda g: -g.premises):
        lightest = sizes.index(min(sizes))
        loads[lightest].append(group)
        sizes[lightest] += group.premises
    return [tuple(b) for b in sorted(loads, key=lambda b: -sum(g.premises for g in b)) if b]


def label(groups: tuple[Group, ...]) -> str:
    """How people read a task of groups: its region codes (the first few)."""
    names = "、".join(g.label for g in groups[:3])
    return names + (f" 等 {len(groups)} 个区划" if len(groups) > 3 else "")


@dataclass(frozen=True)
class PartitionTask:
    """Everything a worker needs to measure one task of groups (pickled to the worker)."""

    number: int
    groups: tuple[Group, ...]
    url: str
    plan: Plan
    params: dict[str, Any]
    target_lsn: str
    wait_s: float

    @property
    def label(self) -> str:
        """The task's region codes, for people."""
        return label(self.groups)

    def __getstate__(self) -> dict[str, Any]:
        # The rule set travels as its JSON: pickled, it would carry the caches a long-lived
        # process has filled (megabytes, unpickled again for every task).
        state = dict(vars(self))
        state["plan"] = {f.name: getattr(self.plan, f.name) for f in fields(Plan)
                         if f.name != "rules"}
        state["rules_json"] = self.plan.rules.model_dump_json()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["plan"] = Plan(rules=_rules_from_json(state.pop("rules_json")), **state["plan"])
        for name, value in state.items():
            object.__setattr__(self, name, value)


@lru_cache(maxsize=4)
def _rules_from_json(text: str) -> RuleSet:
    """The rule set of a task, validated once per worker process and rule set."""
    return RuleSet.model_validate_json(text)


@dataclass(frozen=True)
class PartitionResult:
    """The hits of one task and how long it took."""

    number: int
    groups: tuple[Group, ...]
    replica: str
    pairs: int
    hits: list[tuple[Any, ...]]
    seconds: float
    phases: dict[str, float]  # seconds of: connect, wait (for replay), measure (and judge)
    group_seconds: tuple[float, ...]  # measuring and judging each group
    started_at: float  # epoch seconds, to line tasks up across workers


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


def _measure(conn: Connection, task: PartitionTask) -> tuple[
        int, list[tuple[Any, ...]], tuple[float, ...]]:
    plan = task.plan
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    walker = make_walker(conn, max_snap_m=plan.walking_snap_max_m,
                         reach_m=plan.rules.max_distance_m() or DEFAULT_REACH_M)
    seconds: list[float] = []
    with HitSpill() as spill, planner_settings(conn, MEASURE_PLANNER):
        for group in task.groups:  # one statement each: its own box of schools
            started = time.perf_counter()
            sql, part = group.measure_sql(incremental=plan.incremental)
            with stream_rows(conn, sql, {**task.params, **part}) as (columns, rows):
                spill.judge(columns, rows, plan, walker)
            seconds.append(time.perf_counter() - started)
        spill.walk(walker)
        return spill.pairs, list(spill.rows()), tuple(seconds)


def measure_partition(task: PartitionTask) -> PartitionResult:
    """Measure and judge one task of groups on its replica (runs on a Dask worker)."""
    started_at, started = time.time(), time.perf_counter()
    phases: dict[str, float] = {}
    replica = where(task.url)
    engine = create_engine(task.url, poolclass=NullPool,
                           connect_args={"application_name": "zoneguard-scan-partition"})
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TIME ZONE 'UTC'"))
            phases["connect"] = time.perf_counter() - started
            wait_for_replay(conn, task.target_lsn, task.wait_s, replica)
            phases["wait"] = time.perf_counter() - started - phases["connect"]
            pairs, hits, seconds = _measure(conn, task)
            conn.rollback()
            phases["measure"] = time.perf_counter() - started - phases["connect"] \
                - phases["wait"]
    except ScanPartitionFailed:
        raise
    except Exception as exc:  # the driver's errors may not pickle: send the text back
        raise ScanPartitionFailed(
            f"分区 {task.label} 在只读副本 {replica} 上测量失败："
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        engine.dispose()
    return PartitionResult(task.number, task.groups, replica, pairs, hits,
                           time.perf_counter() - started, phases, seconds, started_at)
