"""A RawTable from a file's rows: title rows skipped, the header found, ragged rows reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from zoneguard.imports.report import FileUnusable, RowProblem

_HEADER_SCAN_ROWS = 10


@dataclass
class RawTable:
    """A file as read: original attributes, source-CRS geometries, 1-based row numbers."""

    frame: pd.DataFrame
    geometry: NDArray[np.object_] | None
    source_rows: list[int]
    declared_crs: str | None
    format: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    attributes: list[dict[str, Any]] | None = None
    declared_wkt: str | None = None
    #: Every row's attributes as JSON text (`jsontext`), when the reader built it.
    attributes_json: pa.Array | None = None


def records_to_table(records: list[tuple[int, list[Any]]], *, fmt: str) -> RawTable:
    """Build a RawTable from numbered records, skipping title rows above the header."""
    rows = [row for _, row in records]
    counts = np.fromiter(map(_count, rows), dtype=np.intp, count=len(rows))
    return table_from_rows([number for number, _ in records], rows, counts, fmt=fmt)


def table_from_rows(numbers: Sequence[int], rows: list[list[Any]], counts: NDArray[np.intp],
                    *, fmt: str) -> RawTable:
    """Build a RawTable from rows, their 1-based numbers and counts of non-blank cells."""
    filled, header_at = find_header(counts)
    header_row = rows[filled[header_at]]
    header = header_names(header_row)
    width = len(header)
    body = filled[header_at + 1 :].tolist()
    tail = bool(body) and len(body) == len(rows) - body[0]  # no blank row below the header
    data = rows[body[0]:] if tail else [rows[i] for i in body]
    problems = []
    for j in np.flatnonzero(np.fromiter(map(len, data), np.intp, len(data)) != width).tolist():
        row = data[j]
        if _count(row[width:]):
            problems.append(RowProblem(numbers[body[j]], None, None, (
                f"本行有 {counts[body[j]]} 个值，表头只有 {width} 列"
                "（某个值里有未加引号的逗号？）")))
        data[j] = (row + [None] * width)[:width]
    if not data:
        raise FileUnusable("文件只有表头，没有数据行")
    frame = pd.DataFrame(data, columns=header, dtype=object)
    return RawTable(frame, None, [numbers[i] for i in body], None, fmt, problems=problems)


def find_header(counts: NDArray[np.intp]) -> tuple[NDArray[np.intp], int]:
    """Return the non-blank rows and the position among them of the header row.

    The header is the first of the first non-blank rows with two or more values: a title
    row above it (one value) is skipped.
    """
    filled = np.flatnonzero(counts)
    if not len(filled):
        raise FileUnusable("文件是空的：没有表头，也没有数据行")
    header_at = next(
        (i for i, k in enumerate(filled[:_HEADER_SCAN_ROWS].tolist()) if counts[k] >= 2), 0
    )
    return filled, header_at


def header_names(row: Sequence[Any]) -> list[str]:
    """Return the column names of a header row: stripped, blanks and repeats numbered."""
    return _unique([str(c).strip() if c is not None else "" for c in row])


def _count(row: list[Any]) -> int:
    return len(row) - row.count(None)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        seen[base] = seen.get(base, 0) + 1
        names[i] = base if seen[base] == 1 else f"{base}.{seen[base] - 1}"
    return names
