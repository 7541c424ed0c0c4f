"""Logging in and out of the workbench: failures, lockout, CSRF, cookies, idle timeout."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.api.web.conftest import PASSWORD, csrf_of, login
from zoneguard.models import AuditLog, LoginFailure, WebSession
from zoneguard.services.access.users import disable_user


def test_wrong_password_and_unknown_user_get_the_same_refusal(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    person()
    wrong = login(web, "zhangsan", "not the password")
    unknown = login(web, "nobody", PASSWORD)
    assert wrong[0] == unknown[0] == 401
    assert "用户名或密码错误" in wrong[1] and "用户名或密码错误" in unknown[1]
    assert "zg_session" not in web.cookies
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    failed = session.scalars(select(AuditLog.entity_id).where(
        AuditLog.action == "login-failed")).all()
    assert sorted(failed) == ["nobody", "zhangsan"]


def test_five_failures_lock_the_username_even_for_the_right_password(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    person()
    person("lisi", display_name="李四")
    for _ in range(5):
        assert login(web, "zhangsan", "wrong password!")[0] == 401
    status, page = login(web, "zhangsan", PASSWORD)
    assert status == 429 and "登录失败次数过多" in page
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert login(web, "lisi", PASSWORD) == (303, "/screen")  # another name is not locked


def test_many_failures_from_one_address_lock_every_username(
        web: TestClient, person: Callable[..., str]) -> None:
    person()
    for n in range(20):
        assert login(web, f"guess{n}", "wrong password!")[0] == 401
    assert login(web, "zhangsan", PASSWORD)[0] == 429


def test_success_forgets_earlier_failures_of_the_username(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    person()
    for _ in range(4):
        login(web, "zhangsan", "wrong password!")
    assert login(web, "zhangsan", PASSWORD) == (303, "/screen")
    assert session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.username == "zhangsan")) == 0


def test_login_form_without_its_csrf_token_is_refused(
        web: TestClient, person: Callable[..., str]) -> None:
    person()
    web.get("/login")
    answer = web.post("/login", data={"username": "zhangsan", "password": PASSWORD,
                                      "csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403 and "zg_session" not in web.cookies


def test_session_cookie_is_httponly_lax_and_stored_only_hashed(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    person()
    page = web.get("/login")
    answer = web.post("/login", data={"username": "ZhangSan", "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("zg_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = web.cookies["zg_session"]
    stored = session.scalars(select(WebSession.id_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_cookies_are_secure_over_https(web: TestClient, person: Callable[..., str]) -> None:
    person()
    page = web.get("https://testserver/login")
    answer = web.post("https://testserver/login", data={
        "username": "zhangsan", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("zg_session="))
    assert "; Secure" in cookie and "HttpOnly" in cookie


def test_cookies_are_secure_when_the_public_url_is_https(web: TestClient) -> None:
    app = web.app
    original = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = original.model_copy(  # type: ignore[attr-defined]
        update={"public_url": "https://zoneguard.example.gov.cn"})
    try:
        page = web.get("/login")  # served behind a TLS proxy: the app itself sees http
    finally:
        app.state.settings = original  # type: ignore[attr-defined]
    cookie = next(c for c in page.headers.get_list("set-cookie")
                  if c.startswith("zg_login_csrf="))
    assert "; Secure" in cookie


def test_idle_session_expires_and_is_deleted(logged_in: TestClient, session: Session) -> None:
    assert logged_in.get("/screen").status_code == 200
    session.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '29 minutes'"))
    assert logged_in.get("/screen").status_code == 200  # 29 min idle: still alive
    session.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'"))
    answer = logged_in.get("/screen", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/screen"
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_disabling_a_user_ends_their_session(logged_in: TestClient, session: Session) -> None:
    disable_user(session, "zhangsan", actor="test")
    answer = logged_in.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert login(logged_in, "zhangsan")[0] == 401


def test_logout_needs_the_csrf_token_and_ends_the_session(
        logged_in: TestClient, session: Session) -> None:
    refused = logged_in.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    token = csrf_of(logged_in.get("/logout").text)
    done = logged_in.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert logged_in.get("/screen", follow_redirects=False).status_code == 303


def test_next_parameter_never_leaves_the_site(
        web: TestClient, person: Callable[..., str]) -> None:
    person()
    page = web.get("/login?next=//evil.example/x")
    answer = web.post("/login", data={"username": "zhangsan", "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text),
                                      "next": "//evil.example/x"}, follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_pages_carry_a_strict_content_security_policy(web: TestClient) -> None:
    page = web.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text
