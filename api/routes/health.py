"""Health, readiness and metrics endpoints (outside `/api/v1`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.auth import MetricsAccess
from api.deps import SessionDep
from api.metrics import Metrics
from api.schemas.common import PROBLEMS
from zoneguard.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: PROBLEMS[503]})
def readyz(request: Request) -> dict[str, Any]:
    """The database is reachable and its schema is at the newest migration (503 otherwise)."""
    engine = getattr(request.app.state, "engine", None)
    head = getattr(request.app.state, "migration_head", None)
    if engine is None:
        raise DatabaseUnavailable("尚未连接数据库")
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        raise DatabaseUnavailable("数据库无法连接或尚未建表") from None
    if current != head:
        raise DatabaseUnavailable(f"数据库结构版本为 {current}，程序要求 {head}："
                                  "请运行 zoneguard db migrate")
    return {"status": "ready", "migration": current}


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus exposition text"}, 401: PROBLEMS[401], 403: PROBLEMS[403]})
def metrics(request: Request, session: SessionDep, _: MetricsAccess) -> Response:
    """Prometheus metrics (an admin or governance key unless ZONEGUARD_METRICS_PUBLIC=true)."""
    registry: Metrics = request.app.state.metrics
    registry.refresh_if_stale(session)
    body, content_type = registry.render()
    return Response(body, media_type=content_type)
