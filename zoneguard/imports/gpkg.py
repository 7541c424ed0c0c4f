"""GeoPackage checks before GDAL reads a layer: plain tables only, no foreign triggers.

A GeoPackage is an SQLite database, so a layer may be a view whose query never ends (a
recursive CTE) or yields millions of rows from a few bytes. The layer must be an ordinary
table; the file may hold only the triggers GeoPackage and GDAL themselves create. The
schema is read with the standard library's sqlite3 on a read-only connection.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

from zoneguard.imports.report import FileUnusable

#: Triggers of the GeoPackage spatial-index and metadata extensions and of GDAL's feature
#: counts (`gpkg_ogr_contents`); any other trigger is refused.
_STANDARD_TRIGGER = re.compile(
    r"^(rtree_.+_(insert\d*|update\d+|delete)|gpkg_.+|trigger_(insert|delete)_feature_count_.+)$"
)


def schema(path: Path) -> list[tuple[str, str, str, str]]:
    """Return (type, name, table, sql) of every schema object, read-only."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise FileUnusable(f"无法读取该 GeoPackage（文件不完整或已损坏？）：{exc}") from exc
    try:
        rows = connection.execute(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise FileUnusable(f"无法读取该 GeoPackage（文件不完整或已损坏？）：{exc}") from exc
    finally:
        connection.close()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def check_layer(path: Path, layer: str) -> None:
    """Refuse a layer that is a view or a virtual table, and foreign triggers anywhere."""
    objects = schema(path)
    kinds = {name.lower(): (kind, sql) for kind, name, _, sql in objects if kind in
             ("table", "view")}
    kind, sql = kinds.get(layer.lower(), ("", ""))
    if kind == "view":
        raise FileUnusable(f"图层“{layer}”是视图（保存的查询），不是数据表："
                           "视图的查询可能永不结束，不予导入。请把图层导出为数据表后重试")
    if kind != "table":
        raise FileUnusable(f"图层“{layer}”不是该 GeoPackage 中的数据表")
    if sql.lstrip().upper().startswith("CREATE VIRTUAL TABLE"):
        raise FileUnusable(f"图层“{layer}”是虚拟表：请导出为数据表后重试")
    foreign = [name for kind, name, _, _ in objects
               if kind == "trigger" and not _STANDARD_TRIGGER.match(name)]
    if foreign:
        raise FileUnusable(f"该 GeoPackage 含有非 GeoPackage 标准的触发器"
                           f"（{'、'.join(foreign[:5])}），不予导入；请把图层导出到新的 "
                           "GeoPackage 后重试")
