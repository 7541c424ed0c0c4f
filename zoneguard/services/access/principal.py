"""Who is asking: an API key (machines) or a logged-in person, as one principal.

Routes check the role and apply the scope of a principal without knowing which kind it is,
and record its `actor` (never a free-text name) in screenings, finding events and the audit
log: `user:张三(zhangsan)` for a person, `key:<prefix>:<key name>` for a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoneguard.domain import Role
from zoneguard.errors import Forbidden
from zoneguard.services.access.keys import ROLE_LABELS as ROLE_LABELS  # the roles in Chinese
from zoneguard.services.access.keys import KeyInfo, Scope, scope_for


@dataclass(frozen=True)
class Principal:
    """A key or a person: role, scope and how records name it."""

    kind: Literal["key", "user"]
    id: int
    name: str
    display_name: str
    role: Role
    categories: tuple[str, ...] | None
    region_prefix: str | None
    school_id: int | None = None  # a school role: the one school it is bound to

    @property
    def scope(self) -> Scope:
        """The data this principal may reach."""
        return scope_for(self.role, self.categories, self.region_prefix, self.school_id)

    @property
    def actor(self) -> str:
        """How screenings, finding events and the audit log name this principal."""
        if self.kind == "user":
            return f"user:{self.display_name}({self.name})"
        return f"key:{self.name}:{self.display_name}"

    @property
    def role_label(self) -> str:
        """The role in Chinese."""
        return ROLE_LABELS[self.role]


def key_principal(info: KeyInfo) -> Principal:
    """The principal of a verified API key (named by its public prefix)."""
    return Principal("key", info.id, info.prefix, info.name, info.role, info.categories,
                     info.region_prefix, info.school_id)


def check_role(principal: Principal, roles: frozenset[Role]) -> Principal:
    """The one permission check of keys and people: Forbidden unless the role is allowed."""
    if principal.role not in roles:
        raise Forbidden(f"“{ROLE_LABELS[principal.role]}”角色无权进行此操作")
    return principal
