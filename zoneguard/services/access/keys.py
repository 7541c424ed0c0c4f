"""API keys: created once (the secret is shown only then), stored hashed, verified, revoked.

A key reads `zg_<prefix>_<secret>`: the prefix (12 hex digits) finds the row, the secret
(256 random bits) is checked against its SHA-256 digest in constant time. A slow password
hash buys nothing for a secret with 256 bits of entropy, and would cost every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.domain import Role
from zoneguard.errors import NotFound, Unauthorized, ValidationError
from zoneguard.labels import choices
from zoneguard.models import ApiKey, School
from zoneguard.scope import UNRESTRICTED as UNRESTRICTED  # re-exported
from zoneguard.scope import Scope as Scope
from zoneguard.scope import scope_for as scope_for
from zoneguard.services.access.audit import audit

# The roles in Chinese (principal.py re-exports them; defined here, where roles are checked).
ROLE_LABELS = {Role.ADMIN: "管理员", Role.GOVERNANCE: "综治办", Role.BUREAU: "业务主管部门",
               Role.VIEWER: "只读", Role.GRID: "网格员", Role.SCHOOL: "学校"}

_TOKEN = re.compile(r"zg_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})")
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*")
_REGION = regions.CODE


@dataclass(frozen=True, kw_only=True)
class Account:
    """What an API key and a person's account share: a role, its scope, when it was made."""

    role: Role
    categories: tuple[str, ...] | None
    region_prefix: str | None
    created_at: datetime
    school_id: int | None = None  # the school a `school` key or user is bound to

    @property
    def scope(self) -> Scope:
        """The data this account may reach: admin and governance see everything."""
        return scope_for(self.role, self.categories, self.region_prefix, self.school_id)

    def account_dict(self) -> dict[str, object]:
        """JSON-ready role, scope and creation time."""
        return {"role": self.role.value,
                "categories": None if self.categories is None else list(self.categories),
                "region_prefix": self.region_prefix, "school_id": self.school_id,
                "created_at": self.created_at.isoformat()}


def account_fields(row: Any) -> dict[str, Any]:
    """The `Account` fields of an api_key or users row (ORM object or mapping)."""
    return {"role": Role(row.role),
            "categories": None if row.categories is None else tuple(row.categories),
            "region_prefix": row.region_prefix, "created_at": row.created_at,
            "school_id": row.school_id}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True, kw_only=True)
class KeyInfo(Account):
    """An API key as stored, without its secret."""

    id: int
    name: str
    prefix: str
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        """How the audit log names this key: its public prefix, then the name it was given."""
        return f"key:{self.prefix}:{self.name}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready description (no secret)."""
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                **self.account_dict(), "revoked_at": _iso(self.revoked_at)}


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: the token is shown once and never stored."""

    info: KeyInfo
    token: str


def _digest(prefix: str, secret: str) -> str:
    return hashlib.sha256(f"{prefix}:{secret}".encode()).hexdigest()


_KEY_COLUMNS = (ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.secret_hash, ApiKey.role,
                ApiKey.categories, ApiKey.region_prefix, ApiKey.created_at, ApiKey.revoked_at,
                ApiKey.school_id)


def _info(row: Any) -> KeyInfo:
    return KeyInfo(id=row.id, name=row.name, prefix=row.prefix, revoked_at=row.revoked_at,
                   **account_fields(row))


def check_scope(role: Role, categories: list[str] | None, region_prefix: str | None,
                school: str | None = None) -> None:
    """ValidationError unless categories, region prefix and school are right for the role.

    A school role is bound to one school (and only it); a grid role (网格员) to its region.
    """
    if role is Role.SCHOOL and not (school or "").strip():
        raise ValidationError("学校角色须指定所属学校（--school 学校代码）")
    if role is not Role.SCHOOL and school is not None:
        raise ValidationError(f"只有学校角色才能指定所属学校（--school）："
                              f"{ROLE_LABELS[role]}（{role.value}）角色不能指定")
    if role is Role.SCHOOL and (categories is not None or region_prefix is not None):
        raise ValidationError("学校角色的范围就是所属学校：不能再指定 --region 或 --categories")
    if role is Role.GRID and region_prefix is None:
        raise ValidationError("网格员角色须指定所辖区划（--region 区划代码前缀）")
    for category in categories or []:
        if not _CATEGORY.fullmatch(category):
            raise ValidationError(f"类别「{category}」不是有效的类别代码（小写字母、数字和下划线）")
    if categories is not None and not categories:
        raise ValidationError("--categories 至少写一个类别；不写则为全部类别")
    if region_prefix is not None and not _REGION.fullmatch(region_prefix):
        raise ValidationError(f"行政区划代码「{region_prefix}」格式不对：应为 2、4 或 6 位数字"
                              "（GB/T 2260），或 9、12 位数字（统计用区划代码）")
    if role is Role.BUREAU and categories is None:
        raise ValidationError("业务主管部门角色须指定所管类别（--categories）")


def school_id_of(session: Session, code: str | None) -> int | None:
    """The id of the school a code names (None for None); NotFound when there is none."""
    if code is None:
        return None
    found = session.scalar(select(School.id).where(School.code == code.strip()))
    if found is None:
        raise NotFound(f"学校代码「{code.strip()}」不存在：请核对学校代码")
    return int(found)


def parse_role(role: str) -> Role:
    """The role a value names; ValidationError listing the roles (value and name) otherwise."""
    try:
        return Role(role)
    except ValueError:
        known = choices((r.value, ROLE_LABELS[r]) for r in Role)
        raise ValidationError(f"未知的角色「{role}」：可选 {known}") from None


def create_key(
    session: Session,
    *,
    role: str,
    name: str,
    categories: list[str] | None = None,
    region_prefix: str | None = None,
    actor: str = "cli",
    school: str | None = None,
) -> NewKey:
    """Create a key of a role and scope; return it with its token (shown only this once).

    `school` is the code of the school a `school` key is bound to (required for that role).
    """
    wanted = parse_role(role)
    if not name.strip():
        raise ValidationError("密钥须有名称")
    cats = sorted(set(categories)) if categories is not None else None
    check_scope(wanted, cats, region_prefix, school)
    school_id = school_id_of(session, school)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(name=name.strip(), prefix=prefix, secret_hash=_digest(prefix, secret),
                 role=wanted.value, categories=cats, region_prefix=region_prefix,
                 school_id=school_id)
    session.add(row)
    session.flush()
    session.refresh(row)
    info = _info(row)
    audit(session, actor=actor, action="create", entity="api_key", entity_id=row.id,
          after=info.as_dict())
    return NewKey(info=info, token=f"zg_{prefix}_{secret}")


def list_keys(session: Session, *, include_revoked: bool = True) -> list[KeyInfo]:
    """Every key, oldest first (without secrets)."""
    stmt = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [_info(row) for row in session.scalars(stmt)]


def revoke_key(session: Session, key_id: int, *, actor: str = "cli") -> KeyInfo:
    """Revoke a key at once; revoking twice keeps the first time."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"访问密钥 {key_id} 不存在")
    before = _info(row).as_dict()
    if row.revoked_at is None:
        row.revoked_at = session.scalar(select(func.now()))
        session.flush()
        audit(session, actor=actor, action="revoke", entity="api_key", entity_id=row.id,
              before=before, after=_info(row).as_dict())
    return _info(row)


def verify_key(session: Session, token: str) -> KeyInfo:
    """Return the live key a token names, or raise Unauthorized."""
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise Unauthorized("访问密钥格式不对（应为 zg_<前缀>_<密钥>）")
    prefix, secret = match.groups()
    # A Core select (not the ORM): this runs on every request.
    row = session.execute(select(*_KEY_COLUMNS).where(ApiKey.prefix == prefix)).first()
    expected = row.secret_hash if row is not None else _digest("0" * 12, "")
    if not hmac.compare_digest(expected, _digest(prefix, secret)) or row is None:
        raise Unauthorized("访问密钥无效")
    if row.revoked_at is not None:
        raise Unauthorized("该访问密钥已被吊销")
    return _info(row)


_PAGE_TOKEN = re.compile(r"zgp_([0-9a-f]{12})_([0-9]{1,12})_([0-9a-f]{64})")


def _page_mac(secret_hash: str, prefix: str, expires: int) -> str:
    return hmac.new(secret_hash.encode(), f"page:{prefix}:{expires}".encode(),
                    hashlib.sha256).hexdigest()


def page_token(session: Session, info: KeyInfo, *, expires: int) -> str:
    """A map-page token standing for a key until `expires` (Unix seconds).

    It is signed with the key's stored digest: it dies with the key and reveals no secret.
    """
    secret_hash = session.execute(
        select(ApiKey.secret_hash).where(ApiKey.id == info.id)).scalar_one()
    return f"zgp_{info.prefix}_{expires}_{_page_mac(secret_hash, info.prefix, expires)}"


def verify_page_token(session: Session, token: str, *, now: float) -> KeyInfo:
    """Return the live key a page token stands for, or raise Unauthorized (also when expired)."""
    match = _PAGE_TOKEN.fullmatch(token.strip())
    if match is None:
        raise Unauthorized("页面令牌格式不对")
    prefix, expires, mac = match.group(1), int(match.group(2)), match.group(3)
    row = session.execute(select(*_KEY_COLUMNS).where(ApiKey.prefix == prefix)).first()
    expected = _page_mac(row.secret_hash if row is not None else "", prefix, expires)
    if not hmac.compare_digest(expected, mac) or row is None:
        raise Unauthorized("页面令牌无效")
    if expires < now:
        raise Unauthorized("页面令牌已过期：请用访问密钥重新打开页面")
    if row.revoked_at is not None:
        raise Unauthorized("该访问密钥已被吊销")
    return _info(row)
