"""The scope of a key or a person: which categories, region and school they may reach.

Kept apart from `keys` (which holds the ORM models) so that a service taking a scope, such
as screening, loads no ORM.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoneguard.domain import Role


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


UNRESTRICTED = Scope()


def scope_for(role: Role, categories: tuple[str, ...] | None,
              region_prefix: str | None, school_id: int | None = None) -> Scope:
    """The data a key or person of this role and scope may reach (admin, governance: all)."""
    if role in (Role.ADMIN, Role.GOVERNANCE):
        return UNRESTRICTED
    cats = frozenset(categories) if categories is not None else None
    return Scope(categories=cats, region_prefix=region_prefix,
                 school_id=school_id if role is Role.SCHOOL else None)
