"""Rescans: one at a time (advisory lock), recorded in `scan`, all-or-nothing on findings.

`run_scan(engine, ...)` is the production path: it takes a session-level advisory lock on its
own connection, commits the `running` scan row in a transaction of its own, then measures,
judges and merges every finding change and the `succeeded` row in ONE transaction. A failure
rolls that transaction back and marks the row `failed`; a killed process leaves its row
`running`, and the next scan, once it holds the lock, marks it `failed`.

`run_scan(session, ...)` runs inside the caller's transaction (tests, callers that own the
transaction): the lock is transaction-scoped and the finding changes sit in a savepoint, so a
failure still leaves the findings as they were and the row `failed` — committed by the caller.

A scan is incremental when a succeeded scan covering its region exists with the same rules
and tolerances: only premises and schools written since that scan's snapshot are measured
again, and the findings of everything else are confirmed as they stand. Deleted or rewritten
gates, a new rule set, a rule coming into or out of force, or `full=True` make it full.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.domain import ScanTrigger
from zoneguard.errors import ScanRunning, ValidationError
from zoneguard.evaluation import Tolerances
from zoneguard.rules import RuleSet
from zoneguard.services.access.audit import audit
from zoneguard.services.rulesets import current_rule_set, store_rule_set
from zoneguard.services.scan import sql as q
from zoneguard.services.scan.diff import Counts, Fill, Plan, data_versions, execute
from zoneguard.settings import Settings, local_today

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanSummary:
    """The outcome of one scan."""

    scan_id: int
    trigger: str
    region: str | None
    mode: str
    rule_set_version: str
    pairs: int
    new: int
    open: int
    resolved: int
    reopened: int
    duration_s: float
    seconds: dict[str, float] = field(default_factory=dict)
    partitions: list[dict[str, Any]] = field(default_factory=list)  # distributed scans

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (`open` counts findings that were open and still conflict)."""
        return {"scan_id": self.scan_id, "new": self.new, "open": self.open,
                "resolved": self.resolved, "reopened": self.reopened,
                "duration_s": round(self.duration_s, 3), "mode": self.mode,
                "pairs": self.pairs, "trigger": self.trigger, "region": self.region,
                "rule_set_version": self.rule_set_version, "partitions": len(self.partitions)}


def _acquire(conn: Connection, *, wait: bool, xact: bool) -> None:
    try_lock = "pg_try_advisory_xact_lock" if xact else "pg_try_advisory_lock"
    if conn.execute(text(f"SELECT {try_lock}(:key)"), {"key": q.LOCK_KEY}).scalar_one():
        return
    if wait:
        lock = "pg_advisory_xact_lock" if xact else "pg_advisory_lock"
        conn.execute(text(f"SELECT {lock}(:key)"), {"key": q.LOCK_KEY})
        return
    running = conn.execute(text(
        "SELECT id, started_at FROM scan WHERE status = 'running' ORDER BY id DESC LIMIT 1"
    )).first()
    which = f"扫描 {running.id}（{running.started_at:%Y-%m-%d %H:%M:%S %Z} 开始）" \
        if running is not None else "另一次扫描"
    raise ScanRunning(f"{which}正在进行，占用着扫描锁：请等它结束后再试，"
                      "或在命令行加 --wait 排队等待")


def _validate(trigger: ScanTrigger | str, region: str | None) -> ScanTrigger:
    if region is not None and not regions.CODE.fullmatch(region):
        raise ValidationError(f"行政区划代码「{region}」格式不对：应为 2、4 或 6 位数字"
                              "（GB/T 2260），或 9、12 位数字（统计用区划代码）")
    try:
        return ScanTrigger(trigger)
    except ValueError:
        known = "、".join(t.value for t in ScanTrigger)
        raise ValidationError(f"未知的扫描触发方式「{trigger}」：可选 {known}") from None


def _start_row(conn: Connection, trigger: ScanTrigger, region: str | None, rules: RuleSet) -> int:
    conn.execute(text(q.MARK_STALE))
    return int(conn.execute(text(
        "INSERT INTO scan (trigger, region, status, rule_set_version) "
        "VALUES (:trigger, :region, 'running', :rsv) RETURNING id"),
        {"trigger": trigger.value, "region": region, "rsv": rules.version}).scalar_one())


def _fail_row(conn: Connection, scan_id: int, exc: BaseException) -> None:
    conn.execute(text(
        "UPDATE scan SET status = 'failed', finished_at = clock_timestamp(), error = :error "
        "WHERE id = :id"), {"id": scan_id, "error": f"{type(exc).__name__}: {exc}"[:4000]})


def _rules_same(rules: RuleSet, before: date, now: date) -> bool:
    return before <= now and all(r.in_force(before) == r.in_force(now) for r in rules.rules)


def plan_scan(conn: Connection, *, on: date, region: str | None, rules: RuleSet,
              tolerances: Tolerances, full: bool = False) -> Plan:
    """Decide between a full and an incremental scan (see the module docstring)."""
    plan = Plan(on=on, region=region, rules=rules, tolerances=tolerances)
    if full:
        return plan
    base = conn.execute(text(
        "SELECT id, rule_set_version, data_versions FROM scan WHERE status = 'succeeded' "
        "AND (region IS NULL OR CAST(:region AS text) LIKE region || '%') "
        "ORDER BY id DESC LIMIT 1"), {"region": region}).first()
    if base is None or base.rule_set_version != rules.version:
        return plan
    dv = base.data_versions
    if "snapshot_xmin" not in dv or dv.get("margin_m") != tolerances.margin_m or \
            dv.get("point_school_radius_m") != tolerances.point_school_radius_m:
        return plan
    base_day = date.fromisoformat(dv["day"])
    if not _rules_same(rules, base_day, on):
        return plan
    snap = conn.execute(text(q.SNAPSHOT)).one()
    base_xmin = int(dv["snapshot_xmin"])
    params = {"base_xmin": base_xmin, "cur": int(snap.xmax),
              "epoch": (int(snap.xmax) >> 32) << 32, "base_day": base_day, "on": on}
    if conn.execute(text(q.SETTLED_GATES), params).scalar_one() != dv["gates_settled"]:
        return plan  # gates deleted or rewritten: their old schools are unknown
    plan.base_scan_id, plan.base_xmin, plan.base_day = base.id, base_xmin, base_day
    plan.schools = [int(v) for v in conn.execute(text(q.CHANGED_SCHOOLS), params).scalars()]
    return plan


def _scan(conn: Connection, scan_id: int, *, region: str | None, rules: RuleSet,
          settings: Settings, full: bool, actor: str,
          fill: Fill | None = None) -> tuple[Plan, Counts]:
    """Everything of one scan that must commit or roll back together."""
    tolerances = Tolerances(settings.review_margin_m, settings.point_school_radius_m)
    plan = plan_scan(conn, on=local_today(settings.timezone), region=region, rules=rules,
                     tolerances=tolerances, full=full)
    plan.walking_snap_max_m = settings.walking_snap_max_m
    plan.max_entrance_m = settings.max_entrance_m
    counts, snapshot_xmin = execute(conn, plan, scan_id=scan_id, actor=actor, fill=fill)
    versions = data_versions(conn, plan, snapshot_xmin)
    conn.execute(text(
        "UPDATE scan SET status = 'succeeded', finished_at = clock_timestamp(), "
        "data_versions = CAST(:dv AS jsonb), new = :new, still_open = :open, "
        "resolved = :resolved, reopened = :reopened, pairs = :pairs WHERE id = :id"),
        {"id": scan_id, "dv": json.dumps(versions, default=str), "new": counts.new,
         "open": counts.still_open, "resolved": counts.resolved, "reopened": counts.reopened,
         "pairs": counts.pairs})
    with Session(bind=conn, join_transaction_mode="create_savepoint") as orm:
        store_rule_set(orm, rules)
        audit(orm, actor=actor, action="scan", entity="scan", entity_id=scan_id,
              after={**vars(counts), "mode": versions["mode"], "region": region})
        orm.commit()
    return plan, counts


def run_scan(
    db: Session | Engine,
    *,
    trigger: ScanTrigger | str,
    region: str | None = None,
    wait: bool = False,
    settings: Settings,
    full: bool = False,
    actor: str | None = None,
    on_start: Callable[[int], None] | None = None,
    dask: str | None = None,
) -> ScanSummary:
    """Rescan every active/suspended premises against the schools; raise ScanRunning if busy.

    `on_start(scan_id)` is called once the `running` scan row exists (for background callers).
    `dask` (or `ZONEGUARD_DASK_SCHEDULER`): measure partitions on that Dask cluster against
    the read replicas (`scan_dask`); only with an engine (replicas see committed data only).
    """
    kind = _validate(trigger, region)
    cfg = settings
    rules = current_rule_set(cfg)
    who = actor or f"scan:{kind.value}"
    started = time.perf_counter()
    scheduler = dask or (None if isinstance(db, Session) else cfg.dask_scheduler)
    fill = _distributed(cfg, scheduler)
    if isinstance(db, Session):
        if fill is not None:
            raise ValidationError("分布式扫描只能在数据库引擎上运行，不能在会话中运行："
                                  "只读副本只看得到已提交的数据")
        db.flush()
        conn = db.connection()
        _acquire(conn, wait=wait, xact=True)
        scan_id = _start_row(conn, kind, region, rules)
        if on_start is not None:
            on_start(scan_id)
        savepoint = conn.begin_nested()
        try:
            plan, counts = _scan(conn, scan_id, region=region, rules=rules, settings=cfg,
                                 full=full, actor=who)
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            _fail_row(conn, scan_id, exc)
            raise
        db.expire_all()
    else:
        with db.connect() as conn:
            _acquire(conn, wait=wait, xact=False)
            conn.commit()
            try:
                scan_id = _start_row(conn, kind, region, rules)
                conn.commit()
                if on_start is not None:
                    on_start(scan_id)  # the running row is visible to others from now on
                try:
                    plan, counts = _scan(conn, scan_id, region=region, rules=rules,
                                         settings=cfg, full=full, actor=who, fill=fill)
                    conn.commit()
                except BaseException as exc:
                    _record_failure(conn, scan_id, exc)
                    raise
            finally:
                _release(conn)
    return ScanSummary(
        scan_id=scan_id, trigger=kind.value, region=region,
        mode="incremental" if plan.incremental else "full", rule_set_version=rules.version,
        pairs=counts.pairs, new=counts.new, open=counts.still_open, resolved=counts.resolved,
        reopened=counts.reopened, duration_s=time.perf_counter() - started,
        seconds=counts.seconds, partitions=[vars(t) for t in getattr(fill, "partitions", [])])


def _distributed(settings: Settings, scheduler: str | None) -> Fill | None:
    """The fill of a distributed scan on `scheduler`, or None for this machine."""
    if not scheduler:
        return None
    from zoneguard.services.scan.on_dask import DaskFill

    return DaskFill(settings, scheduler)


def _record_failure(conn: Connection, scan_id: int, exc: BaseException) -> None:
    try:
        conn.rollback()
        _fail_row(conn, scan_id, exc)
        conn.commit()
    except Exception:  # the database is gone: the next scan marks the row failed
        log.exception("scan %s failed and could not be marked failed", scan_id)


def _release(conn: Connection) -> None:
    try:
        conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": q.LOCK_KEY})
        conn.commit()
    except Exception:  # a broken connection has lost its lock already
        conn.invalidate()
