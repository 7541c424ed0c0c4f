"""API keys and roles: `Authorization: Bearer zg_…` (or `?api_key=` for header-less clients).

admin: everything. governance: read all, run scans, move findings. bureau: screen, import and
move findings within its categories and region prefix, and read the same. viewer: read within
its scope. The key's scope (`KeyInfo.scope`) limits what every query returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SessionDep
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, Unauthorized
from zoneguard.services.keys import KeyInfo, verify_key

_bearer = HTTPBearer(auto_error=False, description="An API key: zg_<prefix>_<secret>")
_query = APIKeyQuery(name="api_key", auto_error=False,
                     description="The API key as a query parameter, for clients without headers")

READ = frozenset(Role)
SCREEN = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
IMPORT = frozenset({Role.ADMIN, Role.BUREAU})
SCAN = frozenset({Role.ADMIN, Role.GOVERNANCE})
MOVE = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
WRITE_PREMISES = frozenset({Role.ADMIN, Role.BUREAU})
ADMIN = frozenset({Role.ADMIN})


def current_key(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_query)],
) -> KeyInfo:
    """The verified key of the request (401 problem when missing, unknown or revoked)."""
    token = bearer.credentials if bearer is not None else api_key
    if not token:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer zg_…'")
    info = verify_key(session, token)
    request.state.key = info
    return info


KeyDep = Annotated[KeyInfo, Depends(current_key)]


def require(roles: frozenset[Role]) -> Callable[[KeyInfo], KeyInfo]:
    """A dependency admitting only keys of the given roles (403 problem otherwise)."""

    def check(key: KeyDep) -> KeyInfo:
        if key.role not in roles:
            raise Forbidden(f"the {key.role.value} role may not do this")
        return key

    return check


Reader = Annotated[KeyInfo, Depends(require(READ))]
Screener = Annotated[KeyInfo, Depends(require(SCREEN))]
Importer = Annotated[KeyInfo, Depends(require(IMPORT))]
ScanRunner = Annotated[KeyInfo, Depends(require(SCAN))]
Mover = Annotated[KeyInfo, Depends(require(MOVE))]
PremisesWriter = Annotated[KeyInfo, Depends(require(WRITE_PREMISES))]
Admin = Annotated[KeyInfo, Depends(require(ADMIN))]
