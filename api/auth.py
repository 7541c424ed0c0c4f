"""Keys and people, one permission check: both become a `Principal`.

An API key (`Authorization: Bearer zg_…`, or `?api_key=` for header-less clients) or a
workbench session cookie.

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
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, Unauthorized
from zoneguard.services.keys import KeyInfo, verify_key
from zoneguard.services.principal import Principal, check_role, key_principal
from zoneguard.services.web_sessions import WebLogin, csrf_ok, resolve

_bearer = HTTPBearer(auto_error=False, description="An API key: zg_<prefix>_<secret>")
_query = APIKeyQuery(name="api_key", auto_error=False,
                     description="The API key as a query parameter, for clients without headers")

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


async def key_info(request: Request, session: SessionDep, token: str) -> KeyInfo:
    """The verified key of a token (cached for a few seconds)."""
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    info = cache.get(token) if cache is not None else None
    if info is None:
        info = await run_in_threadpool(verify_key, session, token)
        if cache is not None:
            cache.put(token, info)
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
) -> Principal:
    """The key or the logged-in person of the request (401 problem when neither)."""
    token = bearer.credentials if bearer is not None else api_key
    if token:
        principal = key_principal(await key_info(request, session, token))
    else:
        login = await web_login(request, session)
        if login is None:
            raise Unauthorized("an API key is required: send 'Authorization: Bearer zg_…'")
        if request.method not in SAFE_METHODS and not csrf_ok(
                login, request.headers.get(CSRF_HEADER)):
            raise Forbidden(f"a change made with a session needs its CSRF token ({CSRF_HEADER})")
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
