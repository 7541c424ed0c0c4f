"""The logged-in person of a page request, CSRF checks of forms, the session cookie."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import SESSION_COOKIE, web_login
from api.web.render import is_https
from zoneguard.services.access.web_sessions import WebLogin, csrf_ok

LoginDep = Annotated[WebLogin | None, Depends(web_login)]


def to_login(request: Request) -> RedirectResponse:
    """A redirect to the login page that comes back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def safe_next(value: str | None) -> str:
    """A same-site path to go to after login ('/' for anything else)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def form_ok(login: WebLogin, token: str | None) -> bool:
    """Whether a submitted form carries the session's CSRF token."""
    return csrf_ok(login, token)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Give the browser its session id: HttpOnly, SameSite=Lax, Secure over HTTPS."""
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=is_https(request), path="/",
                        max_age=int(settings.session_max_hours * 3600))


def clear_session_cookie(request: Request, response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=is_https(request))
