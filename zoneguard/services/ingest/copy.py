"""COPY of validated rows (premises, schools, gates) as CSV built column-wise.

Rows go as CSV that pyarrow writes a chunk at a time from whole columns (geometry as hex
EWKB, exact to the bit; attributes as JSON text; levels as array literals): a worker thread
sends each chunk while the next one is formatted, so the server parses while Python prepares.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from numpy.typing import NDArray
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.orm import Session

_NONE: Any = None  # pandas-stubs do not admit None as the na_value of to_numpy
#: Rows per CSV chunk: small enough that the server starts parsing early, large enough
#: that pyarrow's per-call overhead does not show.
CHUNK_ROWS = 20_000
#: Every value quoted, NULL an empty unquoted field: '' and NULL stay apart, and no value
#: can read as COPY's end-of-data marker.
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
#: EWKB head of a 2D point with SRID 4326, little-endian: byte order, type | SRID flag, SRID.
_POINT_4326 = b"\x01\x01\x00\x00\x20\xe6\x10\x00\x00"
_ARROW_TYPES = {"text": pa.large_string(), "date": pa.date32(), "int": pa.int64()}


def cells(column: pd.Series) -> list[Any]:
    """Return a frame column as Python values, None for every missing one (None, NaN, NA)."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=_NONE).tolist()
    return values


def arrow(column: pd.Series, kind: str) -> pa.Array:
    """Return a frame column as an arrow array of a `csv_chunks` kind (text, date, int)."""
    values = pa.array(column, from_pandas=True)  # arrow-backed text comes as it is stored
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    wanted = _ARROW_TYPES[kind]
    return values if values.type == wanted else values.cast(wanted)


def json_text(value: Any) -> str:
    """Return the JSON text of an attributes dict (anything else is `{}`)."""
    return json.dumps(value if isinstance(value, dict) else {}, ensure_ascii=False, default=str)


def json_texts(values: Iterable[Any]) -> list[str]:
    """Return the JSON text of every row's attributes (`json_text`, all rows at once).

    One json.dumps call encodes all rows; its text is split between rows at "}, {", which
    stands there and, when a value holds it too, shows in the count (then row by row).
    """
    rows = [v if isinstance(v, dict) else {} for v in values]
    data = json.dumps(rows, ensure_ascii=False, default=str)
    parts = data[2:-2].split("}, {") if rows else []
    if len(parts) != len(rows):
        return [json_text(v) for v in rows]
    return list(map("{%s}".__mod__, parts))


def csv_chunks(columns: dict[str, tuple[str, Any]], rows: int) -> Iterator[bytes]:
    """Yield rows as COPY CSV, `CHUNK_ROWS` at a time, from columns (name: (kind, values)).

    Kinds: text, date and int (lists, None for NULL, or arrow arrays), text[] (lists of
    strings, sent as array literals), geometry (an array of shapely geometries, sent as hex
    EWKB with SRID 4326), json (attribute dicts, sent as JSON text) and json_text (an arrow
    array of JSON text).
    """
    names = list(columns)
    for start in range(0, rows, CHUNK_ROWS):
        part = slice(start, start + CHUNK_ROWS)
        arrays = [_arrow(kind, values[part]) for kind, values in columns.values()]
        sink = pa.BufferOutputStream()
        pacsv.write_csv(pa.Table.from_arrays(arrays, names=names), sink, _CSV)
        yield sink.getvalue().to_pybytes()


def _arrow(kind: str, values: Any) -> pa.Array:
    if isinstance(values, pa.Array):  # text, date or int (`arrow`), or JSON text
        return values
    if kind == "geometry":
        return hex_ewkb(np.asarray(values, dtype=object))
    if kind == "json":
        return pa.array(json_texts(values), pa.string())
    if kind == "text[]":
        return pa.array([None if v is None else _array_literal(v) for v in values], pa.string())
    return pa.array(values, _ARROW_TYPES[kind])


def _array_literal(values: Any) -> str:
    """A PostgreSQL text[] literal: every element quoted, its backslashes and quotes escaped."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def hex_ewkb(geoms: NDArray[np.object_]) -> pa.Array:
    """Return hex EWKB (SRID 4326) of geometries as an arrow string array, null for None.

    2D points, as premises are, are written straight from their coordinates (the bytes
    shapely would write, in lower case); any other geometry goes through shapely.
    """
    present = ~shapely.is_missing(geoms)
    given = geoms[present]
    if not (shapely.get_type_id(given) == 0).all() or shapely.has_z(given).any() \
            or shapely.is_empty(given).any():
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
        return pa.array(wkb, pa.string())
    record = np.empty(len(given), dtype=[("head", "S9"), ("xy", "<f8", 2)])
    record["head"] = _POINT_4326
    record["xy"] = shapely.get_coordinates(given)
    data = record.tobytes().hex().encode()
    offsets = np.zeros(len(geoms) + 1, dtype=np.int32)
    np.cumsum(present * (2 * record.itemsize), out=offsets[1:])
    valid = np.packbits(present, bitorder="little")
    return pa.StringArray.from_buffers(len(geoms), pa.py_buffer(offsets), pa.py_buffer(data),
                                       pa.py_buffer(valid), len(geoms) - len(given))


def constants(values: dict[str, Any], rows: int) -> dict[str, tuple[str, Any]]:
    """Return text columns that repeat one value (its text; None for NULL) on every row."""
    return {name: ("text", [None if v is None else str(v)] * rows) for name, v in values.items()}


def copy_csv(session: Session, table: str, columns: dict[str, tuple[str, Any]]) -> None:
    """COPY columns (`csv_chunks`) into `table`: a worker thread sends, this one formats."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    rows = len(next(iter(columns.values()))[1])
    if raw.info.encoding != "utf-8":  # the payload is UTF-8, whatever the client encoding
        raw.execute("SET LOCAL client_encoding = 'UTF8'")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with raw.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as cp:
        for chunk in csv_chunks(columns, rows):
            cp.write(chunk)


def premises_columns(frame: Any) -> dict[str, tuple[str, Any]]:
    """Return the premises columns of a validated frame for `csv_chunks`, named as in SQL."""
    columns: dict[str, tuple[str, Any]] = {
        name: ("text", arrow(frame[name], "text"))
        for name in ("category", "licence_no", "name", "address", "operator", "status")}
    columns["region"] = ("text", arrow(frame["region"].fillna(""), "text"))  # no region: ''
    for name in ("issued_on", "expires_on"):
        columns[name] = ("date", arrow(frame[name], "date"))
    columns["location"] = ("geometry", frame.geometry.to_numpy())
    columns["entrance"] = ("geometry", frame["entrance"].to_numpy())
    columns["attributes"] = ("json", frame["attributes"].tolist())
    return columns
