"""The edge of the API, before any route runs: back off bad keys, cap bodies.

(Overload is shed one layer further out, by `api.shed`.)

- A client address that sent too many bad keys gets 429 with `Retry-After` (`api.backoff`).
- A request with a body must carry a well-formed key before a byte of the body is read; the
  body may not exceed its limit, by `Content-Length` or, streamed, by the bytes counted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.backoff import FailedKeys
from api.errors import PayloadTooLarge, problem_response, request_id_of
from zoneguard.errors import Unauthorized

TOKEN = re.compile(r"zg_[0-9a-f]{12}_[A-Za-z0-9_-]{32,128}")
_API_KEY_QUERY = re.compile(rb"(?:^|&)api_key=([^&]*)")
# Cheap and public: never blocked (a probe must see the process alive).
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/assets/", "/docs", "/openapi.json")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "zg_session"  # the workbench session (api.web.session)
LOGIN_PATH = "/login"
TOO_MANY_FAILURES = "urn:zoneguard:problem:too-many-failures"
TOO_LARGE = "urn:zoneguard:problem:too-large"
UNAUTHORIZED = "urn:zoneguard:problem:unauthorized"
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around an uploaded file


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def presented_token(scope: Scope) -> str | None:
    """The key a request carries (Bearer header, else `api_key` query), unchecked."""
    auth = _header(scope, b"authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    match = _API_KEY_QUERY.search(scope.get("query_string", b""))
    if match is None:
        return None
    return unquote_plus(match.group(1).decode("latin-1"))


def _person(scope: Scope) -> bool:
    """A request from a person: the login form, or one carrying a workbench session cookie."""
    if scope.get("path") == LOGIN_PATH:
        return True
    cookies = _header(scope, b"cookie") or ""
    return any(part.strip().startswith(SESSION_COOKIE + "=") for part in cookies.split(";"))


def client_address(scope: Scope) -> str:
    """The client's address as the server sees it (after trusted proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _declared_length(scope: Scope) -> int | None:
    text = _header(scope, b"content-length")
    return int(text) if text is not None and text.strip().isdigit() else None


class EdgeMiddleware:
    """Failed-key backoff, key-before-body and body size caps (per worker)."""

    def __init__(self, app: ASGIApp, *, body_max_bytes: int,
                 upload_limits: Mapping[str, int], failed_keys: FailedKeys) -> None:
        self.app = app
        self.body_max_bytes = body_max_bytes
        self.upload_limits = upload_limits
        self.failed_keys = failed_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, self._counted(scope, receive), send)

    def _refusal(self, scope: Scope) -> ASGIApp | None:
        """The answer for a request refused before it reaches a route (None: let it in)."""
        address = client_address(scope)
        wait = self.failed_keys.wait_s(address)
        if wait > 0:
            return _problem(scope, 429, TOO_MANY_FAILURES, "密钥错误次数过多",
                            "此地址多次使用无效的访问密钥：请稍候再用有效密钥重试",
                            retry_after=wait)
        if scope.get("method") not in _BODY_METHODS:
            return None
        token = presented_token(scope)
        if not token and _person(scope):
            pass  # a workbench form or a session call: the route checks session and CSRF
        elif not token:
            return _problem(scope, 401, UNAUTHORIZED, Unauthorized.title,
                            "需要访问密钥：请在请求头中发送“Authorization: Bearer zg_…”")
        elif not TOKEN.fullmatch(token):
            self.failed_keys.failed(address)
            return _problem(scope, 401, UNAUTHORIZED, Unauthorized.title,
                            "访问密钥格式不对（应为 zg_<前缀>_<密钥>）")
        limit, setting = self._limit(scope)
        length = _declared_length(scope)
        if length is not None and length > limit:
            return _problem(scope, 413, TOO_LARGE, PayloadTooLarge.title,
                            _too_large(setting, limit))
        return None

    def _limit(self, scope: Scope) -> tuple[int, str]:
        """The body limit of a path and the setting that sets it."""
        path = str(scope.get("path", ""))
        upload = next((limit for pattern, limit in self.upload_limits.items()
                       if re.fullmatch(pattern, path)), None)
        if upload is not None:
            return upload + MULTIPART_SLACK, "ZONEGUARD_IMPORT_MAX_BYTES"
        return self.body_max_bytes, "ZONEGUARD_BODY_MAX_BYTES"

    def _counted(self, scope: Scope, receive: Receive) -> Receive:
        """`receive` that refuses (413) a body growing past its limit as it streams in."""
        if scope.get("method") not in _BODY_METHODS:
            return receive
        limit, setting = self._limit(scope)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, detail=_too_large(setting, limit))
            return message

        return counted


def _too_large(setting: str, limit: int) -> str:
    return f"请求内容超过 {limit} 字节的上限（由 {setting} 设定）"


def _problem(scope: Scope, status: int, type_: str, title: str, detail: str,
             retry_after: float | None = None) -> ASGIApp:
    request = Request(scope)
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else None
    response = problem_response(status=status, type_=type_, title=title, detail=detail,
                                instance=request.url.path, request_id=request_id_of(request),
                                headers=headers)
    if status in (401, 413):  # the body was never read: do not let the client keep sending it
        response.headers["Connection"] = "close"
    return response
