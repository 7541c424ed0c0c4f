"""Scans started over HTTP run in a background thread; the request returns the scan id at once.

The scan service holds the advisory lock, so two scans never run at once across processes;
this process also refuses a second start while its own thread still runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from zoneguard.domain import ScanTrigger
from zoneguard.errors import DatabaseUnavailable, ScanRunning, ZoneGuardError
from zoneguard.services.scan import sql as scan_sql
from zoneguard.services.scan.run import ScanSummary, run_scan
from zoneguard.settings import Settings

log = logging.getLogger("zoneguard.api")
_RUNNING = text("SELECT id FROM scan WHERE status = 'running' AND id > :after "
                "ORDER BY id DESC LIMIT 1")
_LAST = text("SELECT coalesce(max(id), 0) FROM scan")


class ScanStarter(Protocol):
    """Starts a scan and returns its id (raises ScanRunning when one runs)."""

    def __call__(self, *, region: str | None, full: bool, actor: str) -> int:
        """Start a scan."""


class BackgroundScans:
    """One scan thread at a time per process, on the app's engine."""

    def __init__(self, engine: Engine, settings: Settings,
                 on_start: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.on_start = on_start
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, *, region: str | None, full: bool, actor: str) -> int:
        """Start a scan in a thread; return its id once its row exists (or it has ended)."""
        with self.engine.connect() as conn:
            after = int(conn.execute(_LAST).scalar_one())
        outcome: dict[str, ScanSummary | BaseException] = {}
        done = threading.Event()

        def work() -> None:
            try:
                outcome["summary"] = run_scan(self.engine, trigger=ScanTrigger.API, region=region,
                                              settings=self.settings, full=full, actor=actor)
            except BaseException as exc:  # reported to the request, or logged when it has gone
                outcome["error"] = exc
                if not isinstance(exc, ScanRunning):
                    log.error("background scan failed", exc_info=exc)
            finally:
                done.set()

        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise ScanRunning("通过本服务启动的排查仍在运行，请等它结束")
            self._thread = threading.Thread(target=work, name="zoneguard-scan", daemon=True)
            self._thread.start()
        scan_id = self._await_id(after, done, outcome)
        if self.on_start is not None:
            self.on_start()
        return scan_id

    def _await_id(self, after: int, done: threading.Event,
                  outcome: dict[str, ScanSummary | BaseException]) -> int:
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            if done.wait(0.02):
                break
            with self.engine.connect() as conn:
                found = conn.execute(_RUNNING, {"after": after}).scalar()
            if found is not None:
                return int(found)
        result = outcome.get("summary")
        if isinstance(result, ScanSummary):
            return result.scan_id
        error = outcome.get("error")
        if isinstance(error, ZoneGuardError):
            raise error
        if isinstance(error, BaseException):
            raise DatabaseUnavailable("排查未能启动，详情见服务器日志") from error
        raise DatabaseUnavailable("排查未能在 30 秒内启动")

    def join(self, timeout: float | None = None) -> None:
        """Wait for the current scan thread (used at shutdown and by tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def fail_interrupted(conn: Connection) -> int:
    """Mark `failed` (扫描中断) every scan left `running` by a process that is gone.

    Gone means nobody holds the scan lock; when someone does, nothing changes. Returns how
    many scans were marked (the caller commits).
    """
    lock = {"key": scan_sql.LOCK_KEY}
    if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), lock).scalar_one():
        return 0
    try:
        return int(conn.execute(text(scan_sql.MARK_STALE)).rowcount)
    finally:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), lock)


def fail_interrupted_scans(engine: Engine) -> int:
    """`fail_interrupted` in a transaction of its own (at start-up); 0 when the database is down."""
    try:
        with engine.begin() as conn:
            count = fail_interrupted(conn)
    except SQLAlchemyError as exc:
        log.warning("cannot check for interrupted scans: %s", type(exc).__name__)
        return 0
    if count:
        log.warning("marked %d interrupted scan(s) failed", count)
    return count


async def get_scan_starter(request: Request) -> ScanStarter:
    """The app's scan starter (tests replace it with a synchronous one)."""
    starter: ScanStarter | None = getattr(request.app.state, "scans", None)
    if starter is None:
        raise DatabaseUnavailable("尚未连接数据库")
    return starter


ScanStarterDep = Annotated[ScanStarter, Depends(get_scan_starter)]
