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
        raise FileUnusable(f"not a readable GeoPackage (truncated or corrupt?): {exc}") from exc
    try:
        rows = connection.execute(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise FileUnusable(f"not a readable GeoPackage (truncated or corrupt?): {exc}") from exc
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
        raise FileUnusable(f"the layer {layer!r} is a view (a stored query), not a table: "
                           "views are refused, as their query may never end. Export the "
                           "layer as a table and retry")
    if kind != "table":
        raise FileUnusable(f"the layer {layer!r} is not a table of the GeoPackage")
    if sql.lstrip().upper().startswith("CREATE VIRTUAL TABLE"):
        raise FileUnusable(f"the layer {layer!r} is a virtual table: export it as a table")
    foreign = [name for kind, name, _, _ in objects
               if kind == "trigger" and not _STANDARD_TRIGGER.match(name)]
    if foreign:
        raise FileUnusable(f"the GeoPackage holds triggers that are not part of GeoPackage "
                           f"({', '.join(foreign[:5])}): refused; export the layer to a new "
                           "GeoPackage and retry")
