"""The FastAPI application: `create_app(settings)` wires routes, errors, auth and the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from api.auth import KeyCache
from api.errors import install_error_handlers
from api.metrics import Metrics
from api.middleware import RequestContextMiddleware
from api.ogc.routes import router as ogc_router
from api.routes import assets as asset_routes
from api.routes import (
    findings,
    health,
    imports,
    maps,
    premises,
    reports,
    rules,
    scans,
    schools,
    screenings,
    tiles,
    workflow,
)
from api.scans import BackgroundScans
from api.schemas.common import PROBLEMS
from api.web import install as install_workbench
from zoneguard.db.engine import make_engine
from zoneguard.db.migrate import head_revision
from zoneguard.db.ready import ready_engine
from zoneguard.errors import DatabaseUnavailable
from zoneguard.imports.uploads import clean_stale, upload_root
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
    app.state.migration_head = head_revision()
    app.state.scans = BackgroundScans(engine, settings,
                                      on_start=app.state.metrics.scans_started.inc)
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ZoneGuard HTTP app (the database is opened by its lifespan, not here)."""
    app = FastAPI(
        title="ZoneGuard", version=_version(), lifespan=_lifespan,
        description="School safety-zone enforcement: screening, registries, scans, findings, "
                    "and OGC API Features for GIS clients. Send an API key as "
                    "`Authorization: Bearer zg_…`.",
    )
    app.state.settings = settings or get_settings()
    app.state.metrics = Metrics()
    app.state.key_cache = KeyCache()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics,
                       upload_limits={"/api/v1/imports": app.state.settings.import_max_bytes})
    app.include_router(health.router)
    api = APIRouter(prefix="/api/v1", responses=PROBLEMS)
    for module in (screenings, schools, premises, imports, scans, findings, rules, workflow):
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


def app_factory() -> FastAPI:
    """The app with settings from the environment (for `uvicorn --factory`)."""
    return create_app(get_settings())
