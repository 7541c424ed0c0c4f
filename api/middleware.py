"""ASGI middleware: request ids, the last-resort 500 problem, and request latency per route."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, internal_error_response, problem_response, request_id_of
from api.metrics import Metrics

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"
_MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the file


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID_ID.fullmatch(text) else None
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class RequestContextMiddleware:
    """Echo or assign `X-Request-ID`, turn any escaped exception into a problem, time routes."""

    def __init__(self, app: ASGIApp, metrics: Metrics, upload_limits: dict[str, int]) -> None:
        self.app = app
        self.metrics = metrics
        self.upload_limits = upload_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            too_large = self._too_large(scope)
            if too_large is not None:
                await too_large(scope, receive, send_with_id)
                return
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:
                raise
            response = internal_error_response(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            template = self.metrics.template(scope.get("route"))
            self.metrics.observe(scope.get("method", ""), template, status,
                                 time.perf_counter() - start)

    def _too_large(self, scope: Scope) -> ASGIApp | None:
        """A 413 problem for an upload whose declared length is over its limit, before reading."""
        limit = self.upload_limits.get(scope.get("path", ""))
        length = _content_length(scope)
        if limit is None or length is None or length <= limit + _MULTIPART_SLACK:
            return None
        request = Request(scope)
        return problem_response(
            status=413, type_=PayloadTooLarge.type, title=PayloadTooLarge.title,
            detail=f"the upload is larger than the limit of {limit} bytes "
                   f"(ZONEGUARD_IMPORT_MAX_BYTES)",
            instance=request.url.path, request_id=request_id_of(request))
