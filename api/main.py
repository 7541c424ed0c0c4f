"""The FastAPI application: `create_app(settings)` wires routes, errors, auth and the database."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from api import docs
from api.admission import Admission
from api.auth import PAGE_COOKIE, PAGE_TOKEN_TTL_S, KeyCache, PageRedirect
from api.backoff import FailedKeys
from api.edge import EdgeMiddleware
from api.errors import install_error_handlers
from api.headers import security_headers
from api.logs import install_redaction
from api.metrics import Metrics
from api.middleware import RequestContextMiddleware
from api.ogc.routes import router as ogc_router
from api.routes import assets as asset_routes
from api.routes import audit as audit_routes
from api.routes import cases as case_routes
from api.routes import (
    facilities,
    findings,
    health,
    imports,
    maps,
    premises,
    problems,
    reports,
    risk,
    rules,
    scans,
    schools,
    screenings,
    tiles,
    workflow,
)
from api.routes import supervision as supervision_routes
from api.scans import BackgroundScans, fail_interrupted_scans
from api.schemas.common import PROBLEMS
from api.shed import ShedMiddleware
from api.web import install as install_workbench
from zoneguard.db.engine import make_engine
from zoneguard.db.migrate import head_revision
from zoneguard.db.ready import ready_engine
from zoneguard.errors import DatabaseUnavailable
from zoneguard.imports.uploads import clean_stale, upload_root
from zoneguard.services.screening_store import screening_writer
from zoneguard.settings import Settings, get_settings

log = logging.getLogger("zoneguard.api")


def _version() -> str:
    try:
        return version("zoneguard")
    except PackageNotFoundError:
        return "0.0.0"


# The first ST_Transform on a fresh connection loads PROJ (~90 ms): pay it at start.
WARM_SQL = text(
    "SELECT ST_Transform(ST_SetSRID(ST_MakePoint(114, 30), 4326), 32649), "
    "ST_Distance(geography(ST_MakePoint(114, 30)), geography(ST_MakePoint(114.001, 30)), true)"
)


def warm_pool(engine: Engine, connections: int) -> None:
    """Open `connections` pooled connections at once and run the warm-up query on each."""
    opened = []
    try:
        for _ in range(connections):
            conn = engine.connect()
            opened.append(conn)
            conn.execute(WARM_SQL)
            conn.rollback()
    finally:
        for conn in opened:
            conn.close()


def _connect(settings: Settings) -> Engine:
    try:
        engine = ready_engine(settings)
    except DatabaseUnavailable as exc:
        if settings.database_url is None:
            raise
        log.error("database not ready at start (%s); /readyz answers 503 until it is", exc.detail)
        return make_engine(settings)
    warm_pool(engine, settings.pool_size)
    return engine


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    await run_in_threadpool(clean_stale, upload_root(settings.home))  # left by dead workers
    engine = await run_in_threadpool(_connect, settings)
    app.state.engine = engine
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)
    writer = screening_writer(engine, delay_s=settings.group_commit_delay_s)
    app.state.screening_writer = writer
    app.state.migration_head = head_revision()
    await run_in_threadpool(fail_interrupted_scans, engine)
    app.state.scans = BackgroundScans(engine, settings,
                                      on_start=app.state.metrics.scans_started.inc)
    try:
        yield
    finally:
        await writer.close()
        engine.dispose()


async def _page_redirect(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, PageRedirect)
    response = RedirectResponse(exc.location, status_code=303)
    response.set_cookie(PAGE_COOKIE, exc.token, max_age=PAGE_TOKEN_TTL_S, path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ZoneGuard HTTP app (the database is opened by its lifespan, not here)."""
    app = FastAPI(
        title="ZoneGuard", version=_version(), lifespan=_lifespan,
        docs_url=None, redoc_url=None,  # /docs is served from local assets (api/docs.py)
        description="School safety-zone enforcement: screening, registries, scans, findings, "
                    "and OGC API Features for GIS clients. Send an API key as "
                    "`Authorization: Bearer zg_…`.",
    )
    app.state.settings = settings or get_settings()
    app.state.metrics = Metrics()
    app.state.key_cache = KeyCache()
    app.state.failed_keys = FailedKeys()
    settings = app.state.settings
    install_redaction()
    install_error_handlers(app)
    app.add_exception_handler(PageRedirect, _page_redirect)
    queued = settings.max_in_flight if settings.max_queued is None else settings.max_queued
    app.add_middleware(EdgeMiddleware, body_max_bytes=settings.body_max_bytes,
                       upload_limits={"/api/v1/imports": settings.import_max_bytes,
                                      "/imports": settings.import_max_bytes,
                                      "/api/v1/findings/[0-9]+/evidence":
                                          settings.evidence_max_bytes,
                                      "/findings/[0-9]+/evidence":
                                          settings.evidence_max_bytes},
                       failed_keys=app.state.failed_keys)
    headers = security_headers(settings)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, headers=headers,
                       public_url=settings.public_url)
    # Added last, so it runs first: a shed request touches no other layer.
    admission = Admission(settings.max_in_flight, queue_max=queued,
                          burst_wait_s=settings.admission_wait_s,
                          overload_limit=settings.overload_in_flight)
    app.add_middleware(ShedMiddleware, admission=admission, headers=headers,
                       shed_counter=app.state.metrics.shed)
    app.include_router(health.router)
    app.include_router(docs.router)
    api = APIRouter(prefix="/api/v1", responses=PROBLEMS)
    for module in (screenings, schools, premises, imports, scans, findings, rules, workflow,
                   case_routes, supervision_routes, audit_routes, problems, risk, facilities):
        api.include_router(module.router)
        app.state.metrics.register_routes("/api/v1", module.router)
    api.include_router(reports.api_router)  # the figures as JSON; the files stay at /reports
    app.state.metrics.register_routes("/api/v1", reports.api_router)
    app.include_router(api)
    app.include_router(ogc_router, prefix="/ogc")
    app.state.metrics.register_routes("/ogc", ogc_router)
    for page_module in (maps, reports, tiles, asset_routes):
        app.include_router(page_module.router, responses=PROBLEMS)
    install_workbench(app)
    return app


# Python's own switch interval, on purpose: at 1 ms the route threads and the event loop
# handed the GIL back and forth so often that 400 screenings/s shed and queued (p99 32 ms
# against 12 ms at 5 ms, same run); a shed request still waits well under 100 ms.
SWITCH_INTERVAL_S = 0.005


def app_factory() -> FastAPI:
    """The app with settings from the environment (for `uvicorn --factory`, one per worker)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return create_app(get_settings())
