"""The scope of a key or a person: which categories, region and school they may reach.

Below the services and the read models that take a scope (kept apart from
`services.access.keys`, which holds the ORM models, so that screening loads no ORM).
"""

from __future__ import annotations

from dataclasses import dataclass

from zoneguard import regions
from zoneguard.domain import Role
from zoneguard.errors import Forbidden
from zoneguard.labels import category_label


@dataclass(frozen=True)
class Scope:
    """What a key may see and touch: categories, a region-code prefix, one school (None: all)."""

    categories: frozenset[str] | None = None
    region_prefix: str | None = None
    school_id: int | None = None  # a school role: its own school only

    @property
    def unrestricted(self) -> bool:
        """True when the scope limits nothing."""
        return self.categories is None and self.region_prefix is None and self.school_id is None

    def allows_category(self, category: str | None) -> bool:
        """Tell whether a premises category is inside the scope."""
        return self.categories is None or (category is not None and category in self.categories)

    def allows_region(self, region: str | None) -> bool:
        """Tell whether a GB/T 2260 region code is inside the scope's prefix."""
        return self.region_prefix is None or (
            region is not None and region.startswith(self.region_prefix))

    def allows(self, *, category: str | None, region: str | None) -> bool:
        """Tell whether a premises of this category in this region is inside the scope."""
        return self.allows_category(category) and self.allows_region(region)

    def narrow(self, region: str | None,
               categories: list[str] | None) -> tuple[str | None, list[str] | None]:
        """The region and categories of a read filter inside the scope (Forbidden for more).

        No region or categories asked: the scope's own; asked beyond it: refused.
        """
        if self.region_prefix is not None:
            if region is None:
                region = self.region_prefix
            elif not region.startswith(self.region_prefix):
                raise Forbidden(f"区划 {regions.labelled(region)} 不在您的权限范围"
                                f"（{regions.labelled(self.region_prefix)}）内")
        if self.categories is not None:
            if categories is None:
                categories = sorted(self.categories)
            elif not set(categories) <= self.categories:
                raise Forbidden("您的权限不含以下场所类别：" + "、".join(
                    category_label(c) for c in sorted(set(categories) - self.categories)))
        return region, categories


UNRESTRICTED = Scope()


def scope_for(role: Role, categories: tuple[str, ...] | None,
              region_prefix: str | None, school_id: int | None = None) -> Scope:
    """The data a key or person of this role and scope may reach (admin, governance: all)."""
    if role in (Role.ADMIN, Role.GOVERNANCE):
        return UNRESTRICTED
    cats = frozenset(categories) if categories is not None else None
    return Scope(categories=cats, region_prefix=region_prefix,
                 school_id=school_id if role is Role.SCHOOL else None)
