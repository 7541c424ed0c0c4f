"""People who log in to the workbench: created, listed, disabled, passwords reset.

Passwords are hashed with argon2id (argon2-cffi, its recommended parameters); a hash made
with older parameters is replaced at the next successful login. Roles and scopes are those
of API keys, checked by the same code (`services.principal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from zoneguard.errors import Conflict, NotFound, ValidationError
from zoneguard.models import User, WebSession
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import (
    Account,
    account_fields,
    check_scope,
    parse_role,
    school_id_of,
)
from zoneguard.services.access.principal import Principal

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The argon2id hasher (RFC 9106 low-memory profile, argon2-cffi's default)."""
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("zoneguard: no such user")


@dataclass(frozen=True, kw_only=True)
class UserInfo(Account):
    """A person's account as stored, without the password hash."""

    id: int
    username: str
    display_name: str
    disabled_at: datetime | None

    @property
    def principal(self) -> Principal:
        """The principal this person acts as."""
        return Principal("user", self.id, self.username, self.display_name, self.role,
                         self.categories, self.region_prefix, self.school_id)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (no hash)."""
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                **self.account_dict(),
                "disabled_at": None if self.disabled_at is None else self.disabled_at.isoformat()}


def user_info(row: Any) -> UserInfo:
    """A UserInfo from a users row (ORM object or mapping)."""
    return UserInfo(id=row.id, username=row.username, display_name=row.display_name,
                    disabled_at=row.disabled_at, **account_fields(row))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"密码不能超过 {MAX_PASSWORD} 个字符")
    if len(set(password)) < 4:
        raise ValidationError("密码过于简单（不同字符少于 4 个）")


def normal_username(username: str) -> str:
    """The stored form of a username (trimmed, lower case); ValidationError when malformed."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise ValidationError(f"用户名「{username}」不合要求：须为 2–64 个小写字母、数字或 . _ -，"
                              "以字母或数字开头")
    return name


def create_user(
    session: Session, *, username: str, password: str, role: str,
    display_name: str | None = None, categories: list[str] | None = None,
    region_prefix: str | None = None, actor: str = "cli", school: str | None = None,
) -> UserInfo:
    """Create a person's account of a role and scope (Conflict when the username is taken).

    `school` is the code of the school a `school` user is bound to (required for that role).
    """
    name = normal_username(username)
    wanted = parse_role(role)
    cats = sorted(set(categories)) if categories is not None else None
    check_scope(wanted, cats, region_prefix, school)
    school_id = school_id_of(session, school)
    shown = (display_name or name).strip()
    if not shown or len(shown) > 64:
        raise ValidationError("显示名称须为 1–64 个字符")
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"用户名「{name}」已存在")
    row = User(username=name, display_name=shown, password_hash=hasher().hash(password),
               role=wanted.value, categories=cats, region_prefix=region_prefix,
               school_id=school_id)
    session.add(row)
    session.flush()
    session.refresh(row)
    info = user_info(row)
    audit(session, actor=actor, action="create", entity="user", entity_id=row.id,
          after=info.as_dict())
    return info


def list_users(session: Session) -> list[UserInfo]:
    """Every account, oldest first."""
    return [user_info(row) for row in session.scalars(select(User).order_by(User.id))]


def _row(session: Session, username: str) -> User:
    row = session.scalar(select(User).where(User.username == normal_username(username)))
    if row is None:
        raise NotFound(f"用户「{username}」不存在")
    return row


def disable_user(session: Session, username: str, *, actor: str = "cli") -> UserInfo:
    """Disable an account and end its sessions at once (disabling twice keeps the first time)."""
    row = _row(session, username)
    before = user_info(row).as_dict()
    session.execute(delete(WebSession).where(WebSession.user_id == row.id))
    if row.disabled_at is None:
        row.disabled_at = session.scalar(select(func.now()))
        session.flush()
        audit(session, actor=actor, action="disable", entity="user", entity_id=row.id,
              before=before, after=user_info(row).as_dict())
    return user_info(row)


def reset_password(session: Session, username: str, password: str, *,
                   actor: str = "cli") -> UserInfo:
    """Set a new password and end the account's sessions."""
    row = _row(session, username)
    _check_password(password)
    row.password_hash = hasher().hash(password)
    row.password_changed_at = func.now()
    session.execute(delete(WebSession).where(WebSession.user_id == row.id))
    session.flush()
    audit(session, actor=actor, action="reset-password", entity="user", entity_id=row.id)
    return user_info(row)


def check_password(session: Session, username: str, password: str) -> UserInfo | None:
    """The live account whose password this is, or None (same work for unknown names)."""
    try:
        name = normal_username(username)
    except ValidationError:
        name = None
    row = None if name is None else session.scalar(select(User).where(User.username == name))
    stored = row.password_hash if row is not None else _dummy_hash()
    try:
        hasher().verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if hasher().check_needs_rehash(row.password_hash):
        row.password_hash = hasher().hash(password)
        session.flush()
    return user_info(row)
