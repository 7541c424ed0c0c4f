"""One rescan inside one transaction: measure (SQL), judge (Python, `decide.judge`), diff.

The measurement is one set-based statement selecting `spatial.measure.PAIR_COLUMNS` over
`PAIR_JOINS` for every active or suspended premises and every open school within reach; each
pair is judged under its resolved rules exactly as `screen()` does, while the rows stream in
(the database measures on while Python judges); the non-allowed verdicts are copied into a
temporary table and merged into `finding` with set-based statements.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, text

from spatial.measure import SchoolCandidate
from spatial.walking import Walker, make_walker
from zoneguard.domain import GeometryPrecision, Verdict
from zoneguard.rules import ResolvedRule, RuleSet
from zoneguard.services import scan_sql as q
from zoneguard.services.bulk import upkeep_deferred
from zoneguard.services.decide import Tolerances, judge

DEFAULT_REACH_M = 200.0  # the reach of a category whose rules set no distance (as screen())
STREAM_ROWS = 2_000  # rows per chunk of the streamed measurement
#: Conflicts from which a scan that finds more of them than there are findings inserts them
#: without per-row key and index upkeep (`bulk.upkeep_deferred`): typically the first scan.
BULK_MIN_FINDINGS = 20_000


@dataclass
class Plan:
    """What one scan measures: everything, or only what changed since a base scan."""

    on: date
    region: str | None
    rules: RuleSet
    tolerances: Tolerances
    base_scan_id: int | None = None
    base_xmin: int = 0
    base_day: date | None = None
    schools: list[int] = field(default_factory=list)  # changed schools (incremental)
    walking_snap_max_m: float = 50.0

    @property
    def incremental(self) -> bool:
        """True when only changed premises and schools are measured."""
        return self.base_scan_id is not None


@dataclass
class Counts:
    """What a scan changed."""

    pairs: int = 0
    new: int = 0
    still_open: int = 0
    resolved: int = 0
    reopened: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase, for benchmarks


def _line(judged: Any) -> str | None:
    """EWKT of the measured line: the walked path where the rule walks, else two points."""
    if judged.path:
        return "SRID=4326;LINESTRING(" + ", ".join(f"{x!r} {y!r}" for x, y in judged.path) + ")"
    if not judged.line:
        return None
    (x1, y1), (x2, y2) = judged.line
    return f"SRID=4326;LINESTRING({x1!r} {y1!r}, {x2!r} {y2!r})"


def _json_strings(values: list[str]) -> str:
    """JSON text of a list of strings (the C string encoder; a JSONEncoder costs 3× more)."""
    return "[" + ", ".join(map(encode_basestring, values)) + "]"


_FIELDS = tuple(SchoolCandidate._fields)


def _enrolment_cut(rules: RuleSet) -> tuple[int, ...]:
    """Every enrolment threshold of the rules: `applicable` depends on no more than these."""
    cuts = {r.min_enrolment for r in rules.rules if r.min_enrolment is not None}
    for rule in rules.rules:
        cuts.update((rule.min_enrolment_by_level or {}).values())
    return tuple(sorted(cuts))


class _WalkLater(Exception):
    """A pair needs a walk (queries) while the measurement still streams on the connection."""


def _walk_later(_school: SchoolCandidate, _door: tuple[float, float]) -> Any:
    raise _WalkLater


def judge_pairs(columns: list[str], rows: Iterable[Sequence[Any]], plan: Plan,
                walker: Walker | None = None, *,
                streaming: bool = False) -> tuple[int, list[tuple[Any, ...]]]:
    """Judge measured pairs under their rules; return (pairs, rows of non-allowed verdicts).

    With `streaming`, `rows` still holds the connection: a pair that needs `walker` is judged
    once `rows` is exhausted, its verdicts put back in place (the order of the rows).
    """
    if not columns:  # a streamed result without rows may come without a description
        return 0, []
    rules, on, tol = plan.rules, plan.on, plan.tolerances
    reach = {c: rules.max_distance_m(c) or DEFAULT_REACH_M for c in rules.categories()}
    cuts = _enrolment_cut(rules)
    at = {name: columns.index(name) for name in columns}
    school_at = [at[name] for name in _FIELDS]
    levels_at = _FIELDS.index("levels")
    p_id, cat, p_region, issued = (at["premises_id"], at["category"], at["premises_region"],
                                   at["issued_on"])
    lon, lat, door_lon, door_lat = at["lon"], at["lat"], at["door_lon"], at["door_lat"]
    levels_col, region_col, enrol_col, precision_col = (
        at["levels"], at["school_region"], at["enrolment"], at["precision"])
    boundary_col, gate_col = at["boundary_m"], at["gate_m"]
    # Per rule key: the rules and the distance beyond which every one of them is `allowed`
    # (threshold, or the category's reach when a rule sets none, + margin; a point-only
    # school adds its assumed radius). Most measured pairs of a city lie beyond it for the
    # rules that apply to them, and are not judged one by one.
    cache: dict[tuple[Any, ...], tuple[list[ResolvedRule], float]] = {}
    radius = tol.point_school_radius_m
    allowed = Verdict.ALLOWED  # an enum member looked up once, not per pair

    def rules_for(category: str, levels: tuple[str, ...], region: str | None,
                  enrolment: int | None, key: tuple[Any, ...]) -> tuple[list[ResolvedRule], float]:
        resolved = rules.applicable(category=category, levels=levels, region=region, on=on,
                                    enrolment=enrolment)
        beyond = max((r.rule.distance_m if r.rule.distance_m is not None else reach[category]
                      for r in resolved), default=-1.0) + tol.margin_m
        cache[key] = (resolved, beyond)
        return cache[key]

    def judge_row(row: Sequence[Any], walker: Walker | None) -> list[tuple[Any, ...]]:
        category = row[cat]
        levels = tuple(row[levels_col])
        region = row[p_region] or row[region_col]
        enrolment = row[enrol_col]
        band = None if enrolment is None else tuple(enrolment >= c for c in cuts)
        key = (category, levels, region, band)
        resolved, beyond = cache.get(key) or rules_for(category, levels, region, enrolment, key)
        if row[precision_col] == GeometryPrecision.POINT.value:
            beyond += radius
        gate_m = row[gate_col]
        straight = row[boundary_col] if gate_m is None else min(row[boundary_col], gate_m)
        if straight > beyond:
            return []  # `judge` answers allowed under each rule: nothing to record
        found: list[tuple[Any, ...]] = []
        values = [row[i] for i in school_at]
        values[levels_at] = levels
        school = SchoolCandidate(*values)
        for rule in resolved:
            judged = judge(school, rule, point=(row[lon], row[lat]),
                           door=(row[door_lon], row[door_lat]), tolerances=tol,
                           issued_on=row[issued], fallback_threshold_m=reach[category],
                           walker=walker)
            if judged.verdict is not allowed:
                found.append((school.school_id, row[p_id], rule.rule.id, judged.metric,
                              judged.distance_m, judged.threshold_m, judged.verdict.value,
                              _json_strings(judged.reasons), _line(judged)))
        return found

    hits: list[tuple[Any, ...]] = []
    later: list[tuple[int, Sequence[Any]]] = []  # (position in hits, row)
    first_pass = _walk_later if streaming and walker is not None else walker
    pairs = 0
    for row in rows:
        pairs += 1
        try:
            hits.extend(judge_row(row, first_pass))
        except _WalkLater:
            later.append((len(hits), row))
    if not later:
        return pairs, hits
    merged: list[tuple[Any, ...]] = []
    done = 0
    for at_hit, row in later:
        merged.extend(hits[done:at_hit])
        merged.extend(judge_row(row, walker))
        done = at_hit
    merged.extend(hits[done:])
    return pairs, merged


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
        "material_m": max(margin, 1.0),
        "rule_ids": [r.id for r in rules.rules if r.in_force(plan.on)],
        "schools": plan.schools, "base_scan": plan.base_scan_id or 0,
        "base_xmin": plan.base_xmin, "base_day": plan.base_day or plan.on,
        "cur": int(snapshot.xmax), "epoch": (int(snapshot.xmax) >> 32) << 32,
    }


@contextmanager
def _stream(conn: Connection, sql: str, params: dict[str, Any]) -> Iterator[
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


def _copy_hits(conn: Connection, hits: list[tuple[Any, ...]]) -> None:
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


def execute(conn: Connection, plan: Plan, *, scan_id: int, actor: str) -> tuple[Counts, int]:
    """Measure, judge and merge in the connection's transaction; return (counts, snapshot xmin)."""
    counts = Counts()
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        counts.seconds[phase] = now - clock
        clock = now

    conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
    # A city's schools fit in a few MB, below the size PostgreSQL splits between workers by
    # default; the work is in the premises looked up per school, so split the schools.
    conn.execute(text("SET LOCAL min_parallel_table_scan_size = 0"))
    snapshot = conn.execute(text(q.SNAPSHOT)).one()
    params = measure_params(plan, scan_id, snapshot, actor)
    # Walks are routed only for pairs whose straight line is inside a walking rule's reach.
    walker = make_walker(conn, max_snap_m=plan.walking_snap_max_m,
                         reach_m=plan.rules.max_distance_m() or DEFAULT_REACH_M)
    with _stream(conn, q.measure_sql(incremental=plan.incremental), params) as (columns, rows):
        counts.pairs, hits = judge_pairs(columns, rows, plan, walker, streaming=True)
    lap("measure+judge")
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.scan_hit"))
    conn.execute(text(q.CREATE_HITS))
    _copy_hits(conn, hits)
    conn.execute(text("ANALYZE scan_hit"))
    lap("copy")
    with upkeep_deferred(conn, ["finding", "finding_event"], enabled=_bulk(conn, len(hits))):
        counts.new = _count(conn, q.INSERT_NEW, params)
    lap("insert")
    counts.still_open = _count(conn, q.UPDATE_OPEN, params)
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
