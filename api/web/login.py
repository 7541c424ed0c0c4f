"""`/login`, `/logout` and the home page `/` of the workbench."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import IMPORT, SESSION_COOKIE
from api.deps import SessionDep, SettingsDep
from api.web.render import is_https, render
from api.web.session import (
    LoginDep,
    clear_session_cookie,
    form_ok,
    safe_next,
    set_session_cookie,
    to_login,
)
from zoneguard.domain import Role
from zoneguard.services.access.web_sessions import LoginFailed, LoginLocked, log_in, log_out

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "zg_login_csrf"
SCREEN_ROLES = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})


def _login_page(request: Request, *, next_url: str, error: str | None = None,
                username: str = "", status_code: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(32)
    page = render(request, "login.html", status_code=status_code, csrf_token=token,
                  next_url=next_url, error=error, username=username, login=None)
    page.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/login",
                    secure=is_https(request))
    return page


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, login: LoginDep, next: str | None = None) -> Response:  # noqa: A002
    """The login form (a person already logged in goes on)."""
    if login is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request, session: SessionDep, settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    """Check the password; open a session, or show the form again with the reason."""
    target = safe_next(next)
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, next_url=target, username=username, status_code=403,
                           error="页面已过期，请重新登录")
    client_ip = request.client.host if request.client else "unknown"
    try:
        new = await run_in_threadpool(log_in, session, username=username, password=password,
                                      client_ip=client_ip, settings=settings)
    except (LoginFailed, LoginLocked) as exc:
        # Returned, not raised: the failed attempt is committed and counts towards lockout.
        return _login_page(request, next_url=target, username=username,
                           status_code=exc.status, error=exc.detail)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await run_in_threadpool(log_out, session, old)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, new.token)
    response.delete_cookie(LOGIN_CSRF, path="/login")
    return response


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request, login: LoginDep) -> Response:
    """A confirmation form (logging out changes state, so it is a POST)."""
    if login is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", login=login)


@router.post("/logout")
async def logout_submit(
    request: Request, session: SessionDep, login: LoginDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session and go to the login page."""
    if login is not None and not form_ok(login, csrf_token):
        return render(request, "error.html", status_code=403, login=login,
                      message="页面已过期，请返回后重试")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(log_out, session, cookie)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, login: LoginDep) -> Response:
    """The pages this person's role may use."""
    if login is None:
        return to_login(request)
    principal = login.user.principal
    links = [("/screen", "受理初筛", "输入或点选申请点位，核查与周边学校的距离")] \
        if principal.role in SCREEN_ROLES else []
    links += [("/findings", "问题台账", "筛选、查看并办理问题：上报、交办、整改、验收、销号"),
              ("/reports", "报表下载", "汇总表、问题与登记数据导出")]
    if principal.role in IMPORT:
        links.append(("/imports", "数据导入", "上传学校或场所登记文件，先试导入再确认"))
    return render(request, "home.html", login=login, links=links)
