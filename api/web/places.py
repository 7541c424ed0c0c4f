"""`/screen/places?q=…`: the address box of 受理初筛 (JSON, for the page's own script)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import SCREEN
from api.deps import SessionDep, SettingsDep
from api.web.render import security_headers
from api.web.session import LoginDep
from zoneguard.errors import Unauthorized
from zoneguard.services.access.principal import check_role
from zoneguard.services.geocode import geocoder_for

router = APIRouter(include_in_schema=False)


@router.get("/screen/places")
async def find_places(
    request: Request, login: LoginDep, session: SessionDep, settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    """Places whose name or address matches the query, in WGS 84, within the person's scope."""
    if login is None:
        raise Unauthorized("请先登录")
    principal = check_role(login.user.principal, SCREEN)
    places = await run_in_threadpool(geocoder_for(settings).search, session, q,
                                     scope=principal.scope, limit=10)
    body: list[dict[str, Any]] = [p.as_dict() for p in places]
    return JSONResponse(body, headers=security_headers(request.app.state.settings))
