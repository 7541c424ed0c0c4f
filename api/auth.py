"""Keys and people, one permission check: both become a `Principal`.

An API key (`Authorization: Bearer zg_…`, or `?api_key=` for header-less clients) or a
workbench session cookie.

A map page opened with `?api_key=` is redirected to itself without the key, with a short-lived
page token in an HttpOnly, SameSite=Strict cookie (`zg_page`): the page, its tiles and its
links then authenticate by the cookie, and the key never sits in HTML, history or referrers.
Every failed key counts against the client's address (`api.backoff`).

admin: everything. governance: read all, run scans, move findings. bureau: screen, import and
move findings within its categories and region prefix, and read the same. viewer: read within
its scope. grid (网格员, its region) and school (its one school): read the findings of their
scope and register and report problems, nothing else. The principal's scope
(`Principal.scope`) limits what every query returns.
A request that changes something on a session cookie must carry the session's CSRF token in
`X-CSRF-Token` (pages put it in their forms and check it themselves).

A verified key is remembered in the process for `KEY_CACHE_TTL_S` seconds, so a busy client
costs one key lookup per few seconds rather than one per request: a key revoked with
`zoneguard keys revoke` stops working within that time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.backoff import FailedKeys
from api.deps import SessionDep
from api.edge import client_address
from api.urls import public_url
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, Unauthorized
from zoneguard.services.access.keys import KeyInfo, page_token, verify_key, verify_page_token
from zoneguard.services.access.principal import Principal, check_role, key_principal
from zoneguard.services.access.web_sessions import WebLogin, csrf_ok, resolve

_bearer = HTTPBearer(auto_error=False, description="An API key: zg_<prefix>_<secret>")
_query = APIKeyQuery(name="api_key", auto_error=False,
                     description="The API key as a query parameter, for clients without headers")
PAGE_COOKIE = "zg_page"
PAGE_TOKEN_TTL_S = 3600
PAGE_PREFIXES = ("/maps/",)
_cookie = APIKeyCookie(name=PAGE_COOKIE, auto_error=False,
                       description="A page token, set by a map page opened with ?api_key=")

KEY_CACHE_TTL_S = 5.0
SESSION_COOKIE = "zg_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ = frozenset(Role) - {Role.GRID, Role.SCHOOL}
CASES = frozenset(Role)  # findings, the workflow and problems: grid and school too
SCREEN = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
IMPORT = frozenset({Role.ADMIN, Role.BUREAU})
SCAN = frozenset({Role.ADMIN, Role.GOVERNANCE})
MOVE = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
WRITE_PREMISES = frozenset({Role.ADMIN, Role.BUREAU})
ADMIN = frozenset({Role.ADMIN})
FACILITIES = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})


class KeyCache:
    """Verified keys by token digest, each kept for a few seconds (used on the event loop)."""

    def __init__(self, ttl_s: float = KEY_CACHE_TTL_S, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[float, KeyInfo]] = {}

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> KeyInfo | None:
        """The cached key of a token, if verified less than `ttl_s` ago."""
        entry = self._entries.get(self._digest(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, info: KeyInfo) -> None:
        """Remember a verified key."""
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[self._digest(token)] = (time.monotonic() + self.ttl_s, info)

    def clear(self) -> None:
        """Forget every key."""
        self._entries.clear()


class PageRedirect(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Answer with a redirect to `location` that sets the page cookie to `token`."""

    def __init__(self, location: str, token: str) -> None:
        super().__init__(location)
        self.location, self.token = location, token


def _verify(session: SessionDep, token: str) -> KeyInfo:
    if token.startswith("zgp_"):
        return verify_page_token(session, token, now=time.time())
    return verify_key(session, token)


async def key_info(request: Request, session: SessionDep, token: str) -> KeyInfo:
    """The verified key (or page token) of a token, cached for a few seconds.

    Every failure counts against the client's address (`api.backoff`), every success clears it.
    """
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    info = cache.get(token) if cache is not None else None
    failed: FailedKeys | None = getattr(request.app.state, "failed_keys", None)
    if info is None:
        try:
            info = await run_in_threadpool(_verify, session, token)
        except Unauthorized:
            if failed is not None:
                failed.failed(client_address(request.scope))
            raise
        if cache is not None:
            cache.put(token, info)
    if failed is not None:
        failed.succeeded(client_address(request.scope))
    return info


async def web_login(request: Request, session: SessionDep) -> WebLogin | None:
    """The live workbench session of the request's cookie, if any."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = await run_in_threadpool(resolve, session, cookie, request.app.state.settings)
    if found is not None:
        request.state.web_login = found
    return found


async def current_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_query)],
    page: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The key, page token or logged-in person of the request (401 problem when none).

    A map page opened with `?api_key=` answers with a redirect to itself without the key,
    setting a short-lived page token cookie (the key never stays in the page's URL).
    """
    token = bearer.credentials if bearer is not None else api_key or page
    if token:
        info = await key_info(request, session, token)
        request.state.key = info
        if bearer is None and api_key and request.method == "GET" \
                and request.url.path.startswith(PAGE_PREFIXES):
            expires = int(time.time()) + PAGE_TOKEN_TTL_S
            cookie = await run_in_threadpool(page_token, session, info, expires=expires)
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "api_key"]
            raise PageRedirect(public_url(request, request.url.path, query), cookie)
        principal = key_principal(info)
    else:
        login = await web_login(request, session)
        if login is None:
            raise Unauthorized("需要访问密钥：请在请求头中发送“Authorization: Bearer zg_…”，"
                               "或先登录工作台")
        if request.method not in SAFE_METHODS and not csrf_ok(
                login, request.headers.get(CSRF_HEADER)):
            raise Forbidden(f"页面会话的修改须附带防伪令牌（请求头 {CSRF_HEADER}）："
                            "请刷新页面后重试")
        principal = login.user.principal
    request.state.principal = principal
    return principal


KeyDep = Annotated[Principal, Depends(current_principal)]


def require(roles: frozenset[Role]) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only keys or people of the given roles (403 problem otherwise)."""

    async def check(principal: KeyDep) -> Principal:
        return check_role(principal, roles)

    return check


Reader = Annotated[Principal, Depends(require(READ))]
CaseReader = Annotated[Principal, Depends(require(CASES))]
Screener = Annotated[Principal, Depends(require(SCREEN))]
Importer = Annotated[Principal, Depends(require(IMPORT))]
ScanRunner = Annotated[Principal, Depends(require(SCAN))]
Mover = Annotated[Principal, Depends(require(MOVE))]
PremisesWriter = Annotated[Principal, Depends(require(WRITE_PREMISES))]
Admin = Annotated[Principal, Depends(require(ADMIN))]
FacilityWriter = Annotated[Principal, Depends(require(FACILITIES))]


async def metrics_access(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_query)],
    page: Annotated[str | None, Depends(_cookie)],
) -> None:
    """Admit a metrics scrape: anyone when ZONEGUARD_METRICS_PUBLIC, else admin or governance."""
    if request.app.state.settings.metrics_public:
        return
    principal = await current_principal(request, session, bearer, api_key, page)
    if principal.role not in SCAN:
        raise Forbidden("运行指标仅对管理员或综治办的密钥开放"
                        "（公开须设置 ZONEGUARD_METRICS_PUBLIC）")


MetricsAccess = Annotated[None, Depends(metrics_access)]
