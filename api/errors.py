"""RFC 9457 problem responses: one mapping from every error class to a stable problem type."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from zoneguard.db.errors import translate as translate_db_error
from zoneguard.errors import DatabaseUnavailable, ValidationError, ZoneGuardError

__all__ = ["install_error_handlers", "problem_response", "translate_db_error"]

log = logging.getLogger("zoneguard.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_HTTP_TYPES = {
    400: ("urn:zoneguard:problem:bad-request", "Bad request"),
    401: ("urn:zoneguard:problem:unauthorized", "Unauthorized"),
    403: ("urn:zoneguard:problem:forbidden", "Forbidden"),
    404: ("urn:zoneguard:problem:not-found", "Not found"),
    405: ("urn:zoneguard:problem:method-not-allowed", "Method not allowed"),
    406: ("urn:zoneguard:problem:not-acceptable", "Not acceptable"),
    413: ("urn:zoneguard:problem:too-large", "Request too large"),
    415: ("urn:zoneguard:problem:unsupported-media-type", "Unsupported media type"),
}
INTERNAL_TYPE = "urn:zoneguard:problem:internal"


class PayloadTooLarge(ZoneGuardError):
    """A request body over the configured size limit."""

    status = 413
    type = "urn:zoneguard:problem:too-large"
    title = "Request too large"


def request_id_of(request: Request) -> str | None:
    """The request id the middleware assigned (None outside a request)."""
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value is not None else None


def _json_safe(extra: dict[str, Any]) -> dict[str, Any]:
    """The extra members that are plain JSON data (objects carried for callers are dropped)."""
    out: dict[str, Any] = {}
    for key, value in extra.items():
        try:
            out[key] = json.loads(json.dumps(value, ensure_ascii=False))
        except (TypeError, ValueError):
            continue
    return out


def problem_response(
    *, status: int, type_: str, title: str, detail: str, instance: str | None = None,
    request_id: str | None = None, extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    if request_id is not None:
        body["request_id"] = request_id
    for key, value in _json_safe(extra or {}).items():
        body.setdefault(key, value)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="zoneguard"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _from_error(request: Request, exc: ZoneGuardError) -> JSONResponse:
    rid = request_id_of(request)
    if exc.status >= 500:
        log.error("request %s %s %s failed: %s: %s", rid, request.method, request.url.path,
                  type(exc).__name__, exc.detail)
    retry_after = getattr(exc, "retry_after_s", None)
    return problem_response(status=exc.status, type_=exc.type, title=exc.title,
                            detail=exc.detail, instance=request.url.path, request_id=rid,
                            extra=exc.extra,
                            headers={"Retry-After": str(retry_after)} if retry_after else None)


def _internal(request: Request, exc: BaseException) -> JSONResponse:
    rid = request_id_of(request)
    log.error("request %s %s %s failed", rid, request.method, request.url.path, exc_info=exc)
    return problem_response(status=500, type_=INTERNAL_TYPE, title="Internal server error",
                            detail=f"an unexpected error occurred; quote request id {rid}",
                            instance=request.url.path, request_id=rid)


async def _zoneguard_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ZoneGuardError)
    return _from_error(request, exc)


async def _database_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    translated = translate_db_error(exc)
    if translated is None:
        return _internal(request, exc)
    if translated.status >= 500:
        log.error("request %s: database error", request_id_of(request), exc_info=exc)
    return _from_error(request, translated)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")),
               "type": str(err.get("type", ""))} for err in exc.errors()]
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem_response(status=422, type_=ValidationError.type, title=ValidationError.title,
                            detail=f"the request is invalid: {where}", instance=request.url.path,
                            request_id=request_id_of(request), extra={"errors": errors})


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    type_, title = _HTTP_TYPES.get(exc.status_code, ("about:blank", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(status=exc.status_code, type_=type_, title=title, detail=detail,
                            instance=request.url.path, request_id=request_id_of(request),
                            headers=dict(exc.headers or {}))


async def _pool_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("request %s: no database connection free in time (%s)", request_id_of(request),
              type(exc).__name__)
    return problem_response(status=503, type_=DatabaseUnavailable.type,
                            title=DatabaseUnavailable.title,
                            detail="the server is busy: no database connection is free; retry",
                            instance=request.url.path, request_id=request_id_of(request),
                            headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on an app."""
    app.add_exception_handler(PoolTimeout, _pool_handler)
    app.add_exception_handler(ZoneGuardError, _zoneguard_handler)
    app.add_exception_handler(DBAPIError, _database_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)


def internal_error_response(request: Request, exc: BaseException) -> JSONResponse:
    """The 500 problem for an unexpected exception (logged with the request id)."""
    return _internal(request, exc)
