"""Binary COPY of validated rows into an import's staging table.

Values go as they are: text, dates and numbers through psycopg's binary dumpers, geometries
as EWKB bytes and attributes as binary jsonb (version byte 1, then the JSON text), so the
server parses neither hex nor CSV, and rows stream while the next ones are prepared.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import shapely
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy.orm import Session

#: Binary jsonb: a format version byte (1) followed by the JSON text (PostgreSQL docs).
_JSONB_V1 = b"\x01"
_NONE: Any = None  # pandas-stubs do not admit None as the na_value of to_numpy


def cells(column: pd.Series) -> list[Any]:
    """Return a frame column as Python values, None for every missing one (None, NaN, NA)."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=_NONE).tolist()
    return values


def ewkb(geoms: Any) -> list[bytes | None]:
    """Return EWKB with SRID 4326 of each geometry (None stays None)."""
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), 4326)
    wkb: list[bytes | None] = shapely.to_wkb(arr, include_srid=True).tolist()
    return wkb


def json_text(value: Any) -> str:
    """Return the JSON text of an attributes dict (anything else is `{}`)."""
    return json.dumps(value if isinstance(value, dict) else {}, ensure_ascii=False, default=str)


def jsonb(values: pd.Series) -> list[bytes]:
    """Return binary jsonb of every row's attributes, for a `bytea`-typed COPY field.

    One json.dumps call encodes all rows; its text is split between rows at "}, {", which
    stands there and, when a value holds it too, shows in the count (then row by row).
    """
    rows = [v if isinstance(v, dict) else {} for v in values.tolist()]
    data = json.dumps(rows, ensure_ascii=False, default=str).encode()
    parts = data[2:-2].split(b"}, {") if rows else []
    if len(parts) != len(rows):
        return [_JSONB_V1 + json_text(v).encode() for v in rows]
    return list(map((_JSONB_V1 + b"{%b}").__mod__, parts))


def copy_rows(session: Session, table: str, columns: dict[str, tuple[str, list[Any]]]) -> None:
    """COPY columns (name: (psycopg type, values)) into a staging table in binary format."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)  # staging tables and their columns are constants of import_sql
    with raw.cursor() as cur:
        # psycopg's DB-API layer dumps bytea in Python; the plain bytes dumper runs in C
        cur.adapters.register_dumper(bytes, BytesBinaryDumper)
        # a worker thread sends while this one formats the next rows
        statement = f"COPY {table} ({names}) FROM STDIN (FORMAT binary)"
        with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as cp:
            cp.set_types([kind for kind, _ in columns.values()])
            for row in zip(*(values for _, values in columns.values()), strict=True):
                cp.write_row(row)
