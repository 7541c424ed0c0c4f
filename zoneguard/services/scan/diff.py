"""One rescan inside one transaction: measure (SQL), judge (Python, `decide.judge`), diff.

The measurement is one set-based statement selecting `spatial.measure.PAIR_COLUMNS` over
`PAIR_JOINS` for every active or suspended premises and every open school within reach; each
pair is judged under its resolved rules exactly as `screen()` does, while the rows stream in
(the database measures on while Python judges); the non-allowed verdicts spill to a
temporary file (`scan_spill`: memory does not grow with the number of pairs), are copied
into a temporary table and merged into `finding` with set-based statements.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, text

from spatial.walking import make_walker
from zoneguard.services.bulk import upkeep_deferred
from zoneguard.services.scan import sql as q
from zoneguard.services.scan.judge import DEFAULT_REACH_M, Plan, judge_pairs
from zoneguard.services.scan.spill import HitSpill

__all__ = ["DEFAULT_REACH_M", "Counts", "Fill", "Plan", "copy_hits", "data_versions", "execute",
           "judge_pairs", "measure_here", "measure_params"]

STREAM_ROWS = 2_000  # rows per chunk of the streamed measurement
#: Conflicts from which a scan that finds more of them than there are findings inserts them
#: without per-row key and index upkeep (`bulk.upkeep_deferred`): typically the first scan.
BULK_MIN_FINDINGS = 20_000


@dataclass
class Counts:
    """What a scan changed."""

    pairs: int = 0
    new: int = 0
    still_open: int = 0
    resolved: int = 0
    reopened: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase, for benchmarks


def measure_params(plan: Plan, scan_id: int, snapshot: Any, actor: str) -> dict[str, Any]:
    """Bound parameters of the scan statements (snapshot: a row of `scan_sql.SNAPSHOT`)."""
    rules = plan.rules
    categories = sorted(rules.categories())
    margin = plan.tolerances.margin_m
    reaches = [(rules.max_distance_m(c) or DEFAULT_REACH_M) + margin + 1.0 for c in categories]
    return {
        "scan": scan_id, "actor": actor, "on": plan.on, "region": plan.region,
        "rsv": rules.version, "categories": categories,
        "reaches": reaches, "reach_max_m": max(reaches, default=0.0),
        "point_radius_m": plan.tolerances.point_school_radius_m,
        "max_entrance_m": plan.max_entrance_m,
        "material_m": max(margin, 1.0),
        "rule_ids": [r.id for r in rules.rules if r.in_force(plan.on)],
        "schools": plan.schools, "base_scan": plan.base_scan_id or 0,
        "base_xmin": plan.base_xmin, "base_day": plan.base_day or plan.on,
        "cur": int(snapshot.xmax), "epoch": (int(snapshot.xmax) >> 32) << 32,
    }


@contextmanager
def stream_rows(conn: Connection, sql: str, params: dict[str, Any]) -> Iterator[
        tuple[list[str], Iterator[tuple[Any, ...]]]]:
    """Stream a query's rows in binary (a third faster to read than text) and in chunks.

    The connection is busy until the rows are exhausted: run no other statement on it before.
    """
    names = set(re.findall(r"(?<![:\w]):(\w+)", sql))
    compiled = text(sql).bindparams(**{k: v for k, v in params.items() if k in names}) \
        .compile(dialect=conn.dialect)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cur:
        # Chunks need libpq 17; an older libpq streams row by row (slower, same rows).
        size = STREAM_ROWS if pq.version() >= 170000 else 1
        rows = cur.stream(compiled.string, compiled.params, size=size)
        first = next(rows, None)  # the description is known once the first chunk arrived
        columns = [c.name for c in cur.description or ()]
        try:
            yield columns, iter(()) if first is None else itertools.chain((first,), rows)
        finally:
            rows.close()  # left early (an error): psycopg cancels the query, frees the connection


#: Planner settings of the measurement, for its statement only (the caller's transaction
#: goes on with its own): JIT compiling costs more than it saves here, and a city's schools
#: fit in a few MB, below the size PostgreSQL splits between workers by default, while the
#: work is in the premises each school looks up.
MEASURE_PLANNER = {"jit": "off", "min_parallel_table_scan_size": "0"}


@contextmanager
def planner_settings(conn: Connection, settings: dict[str, str]) -> Iterator[None]:
    """Set planner settings for the enclosed statements, then put the previous values back."""
    previous = {name: conn.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar_one()
                for name in settings}
    for name, value in settings.items():
        conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    yield
    for name, value in previous.items():
        conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})


def copy_hits(conn: Connection, hits: Iterable[tuple[Any, ...]]) -> None:
    """COPY judged hits into the scan's `scan_hit` table."""
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(q.COPY_HITS) as copy:
        for row in hits:
            copy.write_row(row)


def _count(conn: Connection, sql: str, params: dict[str, Any]) -> int:
    return int(conn.execute(text(sql), params).rowcount)


def _bulk(conn: Connection, hits: int) -> bool:
    """Whether the conflicts outnumber the findings already stored (and are many)."""
    if hits < BULK_MIN_FINDINGS:
        return False
    stored = conn.execute(text(q.FINDINGS_UP_TO), {"limit": hits}).scalar_one()
    return bool(stored < hits)


#: Fills the empty `scan_hit` in the scan's transaction: (connection, plan, bound parameters,
#: lap(phase) to time its phases) → (pairs measured, hits written).
Fill = Callable[[Connection, Plan, dict[str, Any], Callable[[str], None]], tuple[int, int]]


def measure_here(conn: Connection, plan: Plan, params: dict[str, Any],
                 lap: Callable[[str], None]) -> tuple[int, int]:
    """Measure and judge on the scan's connection in bounded memory, then COPY the hits.

    The rows stream in chunks while Python judges; hits spill to a temporary file
    (`scan_spill`), walks run once the rows are read, and the hits are copied from the file.
    """
    # Walks are routed only for pairs whose straight line is inside a walking rule's reach.
    walker = make_walker(conn, max_snap_m=plan.walking_snap_max_m,
                         reach_m=plan.rules.max_distance_m() or DEFAULT_REACH_M)
    with HitSpill() as spill:
        with planner_settings(conn, MEASURE_PLANNER), stream_rows(
                conn, q.measure_sql(incremental=plan.incremental), params) as (columns, rows):
            spill.judge(columns, rows, plan, walker)
        spill.walk(walker)
        lap("measure+judge")
        copy_hits(conn, spill.rows())
        lap("copy")
        return spill.pairs, spill.count


def execute(conn: Connection, plan: Plan, *, scan_id: int, actor: str,
            fill: Fill | None = None) -> tuple[Counts, int]:
    """Measure, judge and merge in the connection's transaction; return (counts, snapshot xmin).

    `fill` measures elsewhere (partitions on read replicas, `scan_dask`); by default here.
    """
    counts = Counts()
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        counts.seconds[phase] = now - clock
        clock = now

    snapshot = conn.execute(text(q.SNAPSHOT)).one()
    params = measure_params(plan, scan_id, snapshot, actor)
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.scan_hit"))
    conn.execute(text(q.CREATE_HITS))
    counts.pairs, hits = (fill or measure_here)(conn, plan, params, lap)
    conn.execute(text("ANALYZE scan_hit"))
    lap("analyze")
    with upkeep_deferred(conn, ["finding", "finding_event"], enabled=_bulk(conn, hits)):
        counts.new = _count(conn, q.INSERT_NEW, params)
    lap("insert")
    counts.still_open = int(conn.execute(text(q.UPDATE_OPEN), params).scalar_one())
    lap("update")
    counts.reopened = _count(conn, q.REOPEN, params)
    conn.execute(text(q.TOUCH_CLOSED), params)
    lap("reopen")
    counts.resolved = _count(conn, q.resolve_sql(incremental=plan.incremental), params)
    lap("resolve")
    if plan.incremental:
        counts.still_open += int(conn.execute(text(q.CONFIRM_UNCHANGED), params).scalar_one())
        lap("confirm")
    conn.execute(text("DROP TABLE pg_temp.scan_hit"))
    return counts, int(snapshot.xmin)


def data_versions(conn: Connection, plan: Plan, snapshot_xmin: int) -> dict[str, Any]:
    """Versions of the data a scan saw, with what the next scan needs to skip unchanged rows."""
    snapshot = conn.execute(text(q.SNAPSHOT)).one()
    params = {"base_xmin": snapshot_xmin, "cur": int(snapshot.xmax),
              "epoch": (int(snapshot.xmax) >> 32) << 32}
    row = conn.execute(text(q.DATA_VERSIONS), params).one()
    return {
        "schools": row.schools, "premises": row.premises, "gates": row.gates,
        "schools_updated_at": row.schools_updated, "premises_updated_at": row.premises_updated,
        "gates_settled": row.gates_settled, "snapshot_xmin": snapshot_xmin,
        "day": plan.on.isoformat(), "margin_m": plan.tolerances.margin_m,
        "point_school_radius_m": plan.tolerances.point_school_radius_m,
        "mode": "incremental" if plan.incremental else "full",
        "base_scan_id": plan.base_scan_id,
    }
