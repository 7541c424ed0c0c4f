"""Logging in and web sessions: lockout after failures, opaque session ids, CSRF tokens.

The browser holds a random session id (256 bits); the database holds only its SHA-256
digest, the session's CSRF token (synchronizer pattern) and its last use. A session idle
longer than `session_idle_min`, older than `session_max_hours`, or of a disabled account is
gone. Failed logins are counted per username and per client address over `login_lock_min`;
past the limits the login is refused without checking the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from zoneguard.errors import Unauthorized, ValidationError
from zoneguard.models import LoginFailure, WebSession
from zoneguard.services.access.audit import audit
from zoneguard.services.access.users import UserInfo, check_password, normal_username, user_info
from zoneguard.settings import Settings

TOUCH_AFTER_S = 30  # refresh last_seen_at at most this often (one write per half minute)


class LoginFailed(Unauthorized):
    """Wrong username or password (which one is not said)."""

    type = "urn:zoneguard:problem:login-failed"
    title = "登录失败"


class LoginLocked(Unauthorized):
    """Too many failed logins for this username or from this address."""

    status = 429
    type = "urn:zoneguard:problem:login-locked"
    title = "登录失败次数过多"


@dataclass(frozen=True)
class WebLogin:
    """A live web session: who, and the CSRF token its forms must carry."""

    user: UserInfo
    csrf_token: str


@dataclass(frozen=True)
class NewSession:
    """A freshly opened session: the cookie value is shown to the browser only."""

    token: str
    login: WebLogin


def digest(token: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(token.encode()).hexdigest()


_FAILURES = text("""
SELECT count(*) FILTER (WHERE username = :username) AS by_user,
       count(*) FILTER (WHERE client_ip = :ip) AS by_ip
FROM login_failures
WHERE at > now() - make_interval(secs => :window_s)
  AND (username = :username OR client_ip = :ip)
""")


def _locked(session: Session, username: str, ip: str, settings: Settings) -> bool:
    row = session.execute(_FAILURES, {"username": username, "ip": ip,
                                      "window_s": settings.login_lock_min * 60}).one()
    return bool(row.by_user >= settings.login_max_failures
                or row.by_ip >= settings.login_ip_max_failures)


def log_in(session: Session, *, username: str, password: str, client_ip: str,
           settings: Settings) -> NewSession:
    """Check a password and open a session; LoginFailed or LoginLocked otherwise.

    A failure is recorded in the session's transaction: the caller commits it.
    """
    try:
        name = normal_username(username)
    except ValidationError:
        name = username.strip().lower()[:64] or "-"
    if _locked(session, name, client_ip, settings):
        audit(session, actor=f"web:{client_ip}", action="login-locked", entity="user",
              entity_id=name)
        raise LoginLocked(f"登录失败次数过多，请 {settings.login_lock_min:g} 分钟后再试")
    user = check_password(session, name, password)
    if user is None:
        session.add(LoginFailure(username=name, client_ip=client_ip))
        session.flush()
        audit(session, actor=f"web:{client_ip}", action="login-failed", entity="user",
              entity_id=name)
        raise LoginFailed("用户名或密码错误")
    session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=digest(token), user_id=user.id, csrf_token=csrf,
                           client_ip=client_ip))
    session.flush()
    audit(session, actor=user.principal.actor, action="login", entity="user",
          entity_id=user.id, after={"client_ip": client_ip})
    return NewSession(token, WebLogin(user, csrf))


_RESOLVE = text("""
SELECT s.csrf_token, s.last_seen_at < now() - make_interval(secs => :touch_s) AS stale,
       s.last_seen_at < now() - make_interval(secs => :idle_s)
       OR s.created_at < now() - make_interval(secs => :max_s) AS expired,
       u.id, u.username, u.display_name, u.role, u.categories, u.region_prefix,
       u.created_at, u.disabled_at, u.school_id
FROM web_sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = :id_hash
""")


def resolve(session: Session, token: str, settings: Settings) -> WebLogin | None:
    """The live session a cookie value names, or None (an expired one is deleted)."""
    if not token or len(token) > 128:
        return None
    id_hash = digest(token)
    row = session.execute(_RESOLVE, {
        "id_hash": id_hash, "touch_s": TOUCH_AFTER_S, "idle_s": settings.session_idle_min * 60,
        "max_s": settings.session_max_hours * 3600}).first()
    if row is None:
        return None
    if row.expired or row.disabled_at is not None:
        session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))
        return None
    if row.stale:
        session.execute(text("UPDATE web_sessions SET last_seen_at = now() "
                             "WHERE id_hash = :id_hash"), {"id_hash": id_hash})
    return WebLogin(user_info(row), row.csrf_token)


def log_out(session: Session, token: str) -> None:
    """End a session (nothing happens for an unknown one)."""
    session.execute(delete(WebSession).where(WebSession.id_hash == digest(token)))


def csrf_ok(login: WebLogin, sent: str | None) -> bool:
    """Tell whether a form's or header's CSRF token is the session's (constant time)."""
    return bool(sent) and hmac.compare_digest(login.csrf_token.encode(), (sent or "").encode())
