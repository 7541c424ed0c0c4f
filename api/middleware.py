"""ASGI middleware: request ids, security headers, the last-resort 500 problem, latency."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import internal_error_response
from api.headers import NO_STORE
from api.metrics import Metrics
from api.urls import rebased_location

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID_ID.fullmatch(text) else None
    return None


class RequestContextMiddleware:
    """Request ids, security headers, the last-resort problem for an escaped exception, timing."""

    def __init__(self, app: ASGIApp, metrics: Metrics, headers: list[tuple[bytes, bytes]],
                 public_url: str | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers
        self.public_url = public_url

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
                headers = MutableHeaders(scope=message)
                headers[HEADER] = request_id
                for name, value in self.headers:  # a route's own (stricter) header wins
                    if name.decode("latin-1") not in headers:
                        headers.raw.append((name, value))
                if "cache-control" not in headers:
                    headers.raw.append(NO_STORE)
                if "location" in headers:  # never send a client to the host it named itself
                    headers["location"] = rebased_location(scope, headers["location"],
                                                           self.public_url)
            await send(message)

        try:
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
