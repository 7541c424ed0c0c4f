"""Prometheus metrics: request latency per route template, scans, findings by state.

A scrape is cheap: the database-derived gauges are recounted at most every
`GAUGES_MAX_AGE_S` seconds, and the exposition text is reused for `RENDER_MAX_AGE_S`.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import APIRouter
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from zoneguard.domain import FindingState, ScanStatus
from zoneguard.models import Finding, Scan

log = logging.getLogger("zoneguard.api")
GAUGES_MAX_AGE_S = 30.0
RENDER_MAX_AGE_S = 1.0
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The metrics of one app instance, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._templates: dict[int, str] = {}
        self._lock = threading.Lock()
        self._gauges_at = -float("inf")
        self._rendered: tuple[float, bytes] = (-float("inf"), b"")
        self.latency = Histogram(
            "zoneguard_http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route", "status"], registry=self.registry, buckets=_BUCKETS,
        )
        self.shed = Counter(
            "zoneguard_http_shed", "Requests answered 503 at once because the worker was full",
            registry=self.registry,
        )
        self.scans_started = Counter(
            "zoneguard_scans_started", "Scans started through this API process",
            registry=self.registry,
        )
        self.scans = Gauge("zoneguard_scans", "Recorded scans by status", ["status"],
                           registry=self.registry)
        self.scans_running = Gauge("zoneguard_scans_running", "Scans running now",
                                   registry=self.registry)
        self.findings = Gauge("zoneguard_findings", "Findings by workflow state", ["state"],
                              registry=self.registry)

    def register_routes(self, prefix: str, router: APIRouter) -> None:
        """Remember the full path template of routes included under a prefix."""
        for route in router.routes:
            path = getattr(route, "path", None)
            if path is not None:
                self._templates[id(route)] = prefix + path

    def template(self, route: object) -> str:
        """The full path template of the route that handled a request ('unmatched': none)."""
        if route is None:
            return "unmatched"
        return self._templates.get(id(route)) or str(getattr(route, "path", "unmatched"))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request's latency."""
        self.latency.labels(method, route, str(status)).observe(seconds)

    def refresh_if_stale(self, session: Session,
                         max_age_s: float = GAUGES_MAX_AGE_S) -> bool:
        """Recount the database gauges when older than `max_age_s`; True when it did."""
        with self._lock:
            if time.monotonic() - self._gauges_at < max_age_s:
                return False
            self._gauges_at = time.monotonic()
        self.refresh(session)
        return True

    def invalidate(self) -> None:
        """Recount the gauges and render afresh at the next scrape."""
        with self._lock:
            self._gauges_at = -float("inf")
            self._rendered = (-float("inf"), b"")

    def refresh(self, session: Session) -> None:
        """Recompute the database-derived gauges (at scrape time)."""
        try:
            scans: dict[str, int] = dict(session.execute(
                select(Scan.status, func.count()).group_by(Scan.status)).all())
            states: dict[str, int] = dict(session.execute(
                select(Finding.state, func.count()).group_by(Finding.state)).all())
        except SQLAlchemyError as exc:
            log.warning("metrics: cannot read the database: %s", type(exc).__name__)
            session.rollback()
            return
        for status in ScanStatus:
            self.scans.labels(status.value).set(scans.get(status.value, 0))
        self.scans_running.set(scans.get(ScanStatus.RUNNING.value, 0))
        for state in FindingState:
            self.findings.labels(state.value).set(states.get(state.value, 0))

    def render(self) -> tuple[bytes, str]:
        """The exposition text (reused for `RENDER_MAX_AGE_S`) and its content type."""
        with self._lock:
            at, body = self._rendered
            if time.monotonic() - at >= RENDER_MAX_AGE_S:
                body = generate_latest(self.registry)
                self._rendered = (time.monotonic(), body)
        return body, CONTENT_TYPE_LATEST
