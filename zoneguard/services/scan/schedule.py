"""Nightly rescans on a cron expression (`ZONEGUARD_SCAN_CRON` in `ZONEGUARD_TIMEZONE`).

The loop sleeps until the next fire time, runs `run_scan(trigger=nightly)`, logs the outcome
and goes on whatever happened: a scan already running (the advisory lock is taken) is
skipped, a failed scan is logged and the next fire time is awaited. Fire times that passed
while a scan ran are not caught up: the next one is computed from the clock after the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import Engine

from zoneguard.domain import ScanTrigger
from zoneguard.errors import ScanRunning, ValidationError
from zoneguard.services.scan.run import ScanSummary, run_scan
from zoneguard.settings import Settings

log = logging.getLogger(__name__)
MAX_SLEEP_S = 60.0  # wake up at least this often, so clock jumps do not delay a run for long


@dataclass(frozen=True)
class Outcome:
    """What one scheduled run did: `succeeded`, `skipped` (a scan was running) or `failed`."""

    status: str
    at: datetime
    summary: ScanSummary | None = None
    error: str | None = None


def zone(timezone: str) -> ZoneInfo:
    """The configured time zone, or a clear error."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"未知的时区「{timezone}」（ZONEGUARD_TIMEZONE），"
                              "应写作 Asia/Shanghai 这样的时区名") from None


def next_run(cron: str, after: datetime) -> datetime:
    """The first fire time of `cron` strictly after `after` (an aware datetime, same zone)."""
    if not croniter.is_valid(cron):
        raise ValidationError(f"定时表达式「{cron}」（ZONEGUARD_SCAN_CRON）无效：应为 5 段，"
                              "依次为 分 时 日 月 星期，如「0 2 * * *」（每天 2:00）")
    fire: datetime = croniter(cron, after).get_next(datetime)
    return fire


def run_once(engine: Engine, settings: Settings, *, clock: Callable[[], datetime]) -> Outcome:
    """Run one nightly scan now and log its outcome; never raises for a failed scan."""
    at = clock()
    try:
        summary = run_scan(engine, trigger=ScanTrigger.NIGHTLY, settings=settings)
    except ScanRunning as exc:
        log.warning("nightly scan skipped: %s", exc.detail)
        return Outcome("skipped", at, error=exc.detail)
    except Exception as exc:  # a failed run must not stop the schedule
        log.exception("nightly scan failed")
        return Outcome("failed", at, error=f"{type(exc).__name__}: {exc}")
    log.info("nightly scan %s succeeded (%s): new %d, still open %d, resolved %d, "
             "reopened %d in %.1f s", summary.scan_id, summary.mode, summary.new, summary.open,
             summary.resolved, summary.reopened, summary.duration_s)
    _check_requirements(engine, settings, at)
    return Outcome("succeeded", at, summary=summary)


def _check_requirements(engine: Engine, settings: Settings, at: datetime) -> None:
    """After the nightly scan: the required-facilities check (its own transaction)."""
    from sqlalchemy.orm import Session

    from zoneguard.services.facilities.check import run_check
    from zoneguard.services.rulesets import current_rule_set

    try:
        with Session(engine) as session, session.begin():
            checked = run_check(session, rules=current_rule_set(settings), on=at.date(),
                                actor="requirements-check:nightly")
        log.info("requirements check: new %d, open %d, resolved %d", checked.new,
                 checked.open, checked.resolved)
    except Exception:  # a failed check must not stop the schedule
        log.exception("requirements check failed")


def run_schedule(
    engine: Engine,
    settings: Settings,
    *,
    cron: str | None = None,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] | None = None,
) -> list[Outcome]:
    """Run scans at each fire time of the cron expression, forever or for `max_runs` runs."""
    tz = zone(settings.timezone)
    expression = cron or settings.scan_cron
    now = clock or (lambda: datetime.now(tz))
    outcomes: list[Outcome] = []
    fire = next_run(expression, now())
    log.info("schedule %r (%s): next scan at %s", expression, settings.timezone,
             fire.isoformat())
    while max_runs is None or len(outcomes) < max_runs:
        wait_s = (fire - now()).total_seconds()
        if wait_s > 0:
            sleep(min(wait_s, MAX_SLEEP_S))
            continue
        outcomes.append(run_once(engine, settings, clock=now))
        fire = next_run(expression, now())
        log.info("next scan at %s", fire.isoformat())
    return outcomes
