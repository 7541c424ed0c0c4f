"""Screening records, API keys, people (users, web sessions, failed logins), the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from zoneguard.domain import Role, Verdict
from zoneguard.models.base import Base, enum_check, utcnow_column


class ScreeningRecord(Base):
    """A licence-application screening: request, verdict, conflicts and versions."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    region: Mapped[str | None] = mapped_column(String(12))
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    request: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    verdict: Mapped[str] = mapped_column(String(10), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    rule_set_version: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False, server_default="cli")
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (enum_check("verdict", Verdict),)


def school_bound() -> CheckConstraint:
    """A school role names its school; no other role does."""
    return CheckConstraint("(role = 'school') = (school_id IS NOT NULL)", name="school_bound")


class ApiKey(Base):
    """An API key: role and scope; the secret is stored as a hash only."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    role: Mapped[str] = mapped_column(String(12), nullable=False)
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    region_prefix: Mapped[str | None] = mapped_column(String(12))
    # The one school a `school` key is bound to (its campus zone and its findings only).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = utcnow_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (enum_check("role", Role), school_bound())


class User(Base):
    """A person who logs in to the workbench: role and scope as keys have; argon2 hash only."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(12), nullable=False)
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    region_prefix: Mapped[str | None] = mapped_column(String(12))
    # The one school a `school` user is bound to (its campus zone and its findings only).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = utcnow_column()
    password_changed_at: Mapped[datetime] = utcnow_column()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (enum_check("role", Role), school_bound())


class WebSession(Base):
    """A logged-in browser: found by the SHA-256 digest of its cookie, with its CSRF token."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = utcnow_column()
    last_seen_at: Mapped[datetime] = utcnow_column()
    client_ip: Mapped[str | None] = mapped_column(Text)


class LoginFailure(Base):
    """One failed login, kept for the lockout window (per username and per client address)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    client_ip: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = utcnow_column()

    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),
                      Index("ix_login_failures_client_ip_at", "client_ip", "at"))


class AuditLog(Base):
    """Every write: who, what, when, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = utcnow_column()
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    entity: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
