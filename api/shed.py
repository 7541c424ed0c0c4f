"""The outermost layer of the API: admit a request into the worker, or shed it at once.

A worker runs a bounded number of requests (`api.admission`); under sustained overload the
excess is answered 503 with `Retry-After` before any other layer runs: no request id drawn
by the context middleware, no header rewriting, no route matching, only a response whose
bytes were prepared when the app was built. What a shed request costs the worker is then
mostly the HTTP parsing it cannot avoid, and the served requests keep the CPU.
"""

from __future__ import annotations

import json
import uuid

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from api.admission import Admission
from api.edge import EXEMPT_PREFIXES
from api.headers import NO_STORE

OVERLOADED = "urn:zoneguard:problem:overloaded"
SHED_BODY = json.dumps({"type": OVERLOADED, "title": "服务繁忙", "status": 503,
                        "detail": "服务器已满负荷，请稍后重试（Retry-After 秒后）"},
                       ensure_ascii=False).encode()


class ShedMiddleware:
    """Admission per worker: run, wait briefly in a burst, or answer a prepared 503."""

    def __init__(self, app: ASGIApp, *, admission: Admission,
                 headers: list[tuple[bytes, bytes]], shed_counter: Counter | None = None,
                 tiles: Admission | None = None) -> None:
        self.app = app
        self.admission = admission
        # A map page asks for dozens of tiles at once: they queue on their own, patiently.
        self.tiles = tiles or Admission(admission.limit, queue_max=256, burst_wait_s=10.0,
                                        target_s=float("inf"), hold_s=0.0)
        self.shed = 0
        self.shed_counter = shed_counter
        self._headers = [(b"content-type", b"application/problem+json"),
                         (b"content-length", str(len(SHED_BODY)).encode()),
                         (b"retry-after", b"1"), NO_STORE, *headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        admission = self.tiles if path.startswith("/tiles/") else self.admission
        if not await admission.enter():
            await self._shed(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            admission.leave()

    async def _shed(self, send: Send) -> None:
        """The 503 of a shed request, with a request id and the security headers."""
        self.shed += 1
        if self.shed_counter is not None:
            self.shed_counter.inc()
        headers = [(b"x-request-id", uuid.uuid4().hex.encode()), *self._headers]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": SHED_BODY})
