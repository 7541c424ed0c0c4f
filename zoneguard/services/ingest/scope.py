"""An import within the caller's scope: refused before anything is written.

A key or person limited to categories and a region imports premises (and facilities) only,
and only rows inside its scope: the choices of the upload and every row of the file are
checked after reading and before the first write.
"""

from __future__ import annotations

from typing import Any

from zoneguard import regions
from zoneguard.errors import Forbidden
from zoneguard.labels import category_label
from zoneguard.scope import Scope

SCOPED_KINDS = ("premises", "facilities")


def check_choices(scope: Scope | None, *, kind: str, category: str | None,
                  region: str | None) -> None:
    """Refuse an upload whose kind, category or region lies beyond the scope."""
    if scope is None or scope.unrestricted:
        return
    if kind not in SCOPED_KINDS:
        raise Forbidden("您的权限只能导入场所登记和设施（学校、校门由管理员导入）")
    if category is not None and not scope.allows_category(category):
        raise Forbidden(f"无权导入{category_label(category)}")
    if region is not None and not scope.allows_region(region):
        raise Forbidden(f"行政区划 {regions.labelled(region)} 不在您的权限范围内")


def check_rows(scope: Scope | None, *, kind: str, frame: Any) -> None:
    """Refuse a file any of whose rows lies beyond the scope (category and region)."""
    if scope is None or scope.unrestricted:
        return
    regions_ = [str(r) if isinstance(r, str) and r else None for r in frame["region"]]
    if kind == "facilities":
        for region in regions_:
            if not scope.allows_region(region):
                raise Forbidden(f"文件含有您权限范围以外的设施（区划 "
                                f"{regions.labelled(region) if region else '无'}）；未导入")
        return
    for category, region in zip(frame["category"], regions_, strict=True):
        if not scope.allows(category=str(category), region=region):
            raise Forbidden(f"文件含有您权限范围以外的场所（类别 {category_label(str(category))}，"
                            f"区划 {regions.labelled(region) if region else '无'}）；未导入")
