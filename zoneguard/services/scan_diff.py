"""One rescan inside one transaction: measure (SQL), judge (Python, `decide.judge`), diff.

The measurement is one set-based statement selecting `spatial.measure.PAIR_COLUMNS` over
`PAIR_JOINS` for every active or suspended premises and every open school within reach; each
pair is judged under its resolved rules exactly as `screen()` does; the non-allowed verdicts
are copied into a temporary table and merged into `finding` with set-based statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from spatial.measure import SchoolCandidate
from zoneguard.domain import Verdict
from zoneguard.rules import ResolvedRule, RuleSet
from zoneguard.services import scan_sql as q
from zoneguard.services.decide import Tolerances, judge

DEFAULT_REACH_M = 200.0  # the reach of a category whose rules set no distance (as screen())


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


def _line(judged: Any) -> str | None:
    if judged.line is None:
        return None
    (x1, y1), (x2, y2) = judged.line
    return f"SRID=4326;LINESTRING({x1!r} {y1!r}, {x2!r} {y2!r})"


def judge_pairs(rows: Iterable[Any], plan: Plan) -> tuple[int, list[tuple[Any, ...]]]:
    """Judge measured pairs under their rules; return (pairs, rows of non-allowed verdicts)."""
    rules, on, tol = plan.rules, plan.on, plan.tolerances
    reach = {c: rules.max_distance_m(c) or DEFAULT_REACH_M for c in rules.categories()}
    cache: dict[tuple[Any, ...], list[ResolvedRule]] = {}
    hits: list[tuple[Any, ...]] = []
    pairs = 0
    for row in rows:
        pairs += 1
        school = SchoolCandidate.from_row(row)
        region = row.premises_region or school.school_region
        key = (row.category, school.levels, region, school.enrolment)
        resolved = cache.get(key)
        if resolved is None:
            resolved = cache[key] = rules.applicable(
                category=row.category, levels=school.levels, region=region, on=on,
                enrolment=school.enrolment)
        for rule in resolved:
            judged = judge(school, rule, point=(row.lon, row.lat),
                           door=(row.door_lon, row.door_lat), tolerances=tol,
                           issued_on=row.issued_on, fallback_threshold_m=reach[row.category])
            if judged.verdict is not Verdict.ALLOWED:
                hits.append((school.school_id, row.premises_id, rule.rule.id, judged.metric,
                             judged.distance_m, judged.threshold_m, judged.verdict.value,
                             json.dumps(judged.reasons, ensure_ascii=False), _line(judged)))
    return pairs, hits


def _params(plan: Plan, scan_id: int, snapshot: Any, actor: str) -> dict[str, Any]:
    rules = plan.rules
    categories = sorted(rules.categories())
    margin = plan.tolerances.margin_m
    return {
        "scan": scan_id, "actor": actor, "on": plan.on, "region": plan.region,
        "rsv": rules.version, "categories": categories,
        "reaches": [(rules.max_distance_m(c) or DEFAULT_REACH_M) + margin + 1.0
                    for c in categories],
        "point_radius_m": plan.tolerances.point_school_radius_m,
        "material_m": max(margin, 1.0),
        "rule_ids": [r.id for r in rules.rules if r.in_force(plan.on)],
        "schools": plan.schools, "base_scan": plan.base_scan_id or 0,
        "base_xmin": plan.base_xmin, "base_day": plan.base_day or plan.on,
        "cur": int(snapshot.xmax), "epoch": (int(snapshot.xmax) >> 32) << 32,
    }


def _copy_hits(conn: Connection, hits: list[tuple[Any, ...]]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(q.COPY_HITS) as copy:
        for row in hits:
            copy.write_row(row)


def _count(conn: Connection, sql: str, params: dict[str, Any]) -> int:
    return int(conn.execute(text(sql), params).rowcount)


def execute(conn: Connection, plan: Plan, *, scan_id: int, actor: str) -> tuple[Counts, int]:
    """Measure, judge and merge in the connection's transaction; return (counts, snapshot xmin)."""
    conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
    snapshot = conn.execute(text(q.SNAPSHOT)).one()
    params = _params(plan, scan_id, snapshot, actor)
    rows = conn.execute(text(q.measure_sql(incremental=plan.incremental)), params)
    counts = Counts()
    counts.pairs, hits = judge_pairs(rows, plan)
    conn.execute(text(q.CREATE_HITS))
    _copy_hits(conn, hits)
    conn.execute(text("ANALYZE scan_hit"))
    counts.new = _count(conn, q.INSERT_NEW, params)
    counts.still_open = _count(conn, q.UPDATE_OPEN, params)
    counts.reopened = _count(conn, q.REOPEN, params)
    conn.execute(text(q.TOUCH_CLOSED), params)
    counts.resolved = _count(conn, q.resolve_sql(incremental=plan.incremental), params)
    if plan.incremental:
        counts.still_open += int(conn.execute(text(q.CONFIRM_UNCHANGED), params).scalar_one())
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
