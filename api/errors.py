"""RFC 9457 problem responses: one mapping from every error class to a stable problem type."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from zoneguard.db.errors import translate as translate_db_error
from zoneguard.errors import DatabaseUnavailable, ValidationError, ZoneGuardError
from zoneguard.field_problems import describe

__all__ = ["install_error_handlers", "problem_response", "translate_db_error"]

log = logging.getLogger("zoneguard.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_HTTP_TYPES = {
    400: ("urn:zoneguard:problem:bad-request", "请求有误"),
    401: ("urn:zoneguard:problem:unauthorized", "未登录或缺少访问密钥"),
    403: ("urn:zoneguard:problem:forbidden", "无权操作"),
    404: ("urn:zoneguard:problem:not-found", "未找到"),
    405: ("urn:zoneguard:problem:method-not-allowed", "不支持的请求方法"),
    406: ("urn:zoneguard:problem:not-acceptable", "无法提供所要求的格式"),
    413: ("urn:zoneguard:problem:too-large", "请求过大"),
    415: ("urn:zoneguard:problem:unsupported-media-type", "不支持的内容类型"),
}
INTERNAL_TYPE = "urn:zoneguard:problem:internal"


class PayloadTooLarge(ZoneGuardError):
    """A request body over the configured size limit."""

    status = 413
    type = "urn:zoneguard:problem:too-large"
    title = "请求过大"


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
    return problem_response(status=500, type_=INTERNAL_TYPE, title="服务器内部错误",
                            detail=f"服务器发生意外错误，请将请求编号 {rid} 告知管理员",
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


_WHERE = {"body": "请求内容", "query": "查询参数", "path": "地址参数", "header": "请求头",
          "cookie": "Cookie"}
def _field_problem(err: Any) -> str:
    """One pydantic error in words: where it is and what is wrong (in Chinese)."""
    loc = [str(part) for part in err.get("loc", ())]
    where = _WHERE.get(loc[0], loc[0]) if loc else "请求"
    field = ".".join(loc[1:])
    what = describe(err) or "格式不符"
    return f"{where} {field}：{what}" if field else f"{where}：{what}"


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")),
               "type": str(err.get("type", ""))} for err in exc.errors()]
    where = "；".join(_field_problem(err) for err in exc.errors()[:5])
    more = f"（另有 {len(errors) - 5} 处）" if len(errors) > 5 else ""
    return problem_response(status=422, type_=ValidationError.type, title=ValidationError.title,
                            detail=f"请求内容有误：{where}{more}", instance=request.url.path,
                            request_id=request_id_of(request), extra={"errors": errors})


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    type_, title = _HTTP_TYPES.get(exc.status_code, ("about:blank", "请求未能完成"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"没有这个地址：{request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.url.path} 不接受 {request.method} 请求"
    elif detail == HTTPStatus(exc.status_code).phrase:  # Starlette's English default
        detail = title
    return problem_response(status=exc.status_code, type_=type_, title=title, detail=detail,
                            instance=request.url.path, request_id=request_id_of(request),
                            headers=dict(exc.headers or {}))


async def _pool_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("request %s: no database connection free in time (%s)", request_id_of(request),
              type(exc).__name__)
    return problem_response(status=503, type_=DatabaseUnavailable.type,
                            title=DatabaseUnavailable.title,
                            detail="服务器繁忙，暂无空闲的数据库连接，请稍后重试",
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
