"""A RawTable from a file's rows: title rows skipped, the header found, ragged rows reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
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


def records_to_table(records: list[tuple[int, list[Any]]], *, fmt: str) -> RawTable:
    """Build a RawTable from numbered records, skipping title rows above the header."""
    rows = [row for _, row in records]
    counts = np.fromiter(map(_count, rows), dtype=np.intp, count=len(rows))
    return table_from_rows([number for number, _ in records], rows, counts, fmt=fmt)


def table_from_rows(numbers: Sequence[int], rows: list[list[Any]], counts: NDArray[np.intp],
                    *, fmt: str) -> RawTable:
    """Build a RawTable from rows, their 1-based numbers and counts of non-blank cells."""
    filled = np.flatnonzero(counts)
    if not len(filled):
        raise FileUnusable("the file is empty: it has no header and no rows")
    header_at = next(
        (i for i, k in enumerate(filled[:_HEADER_SCAN_ROWS].tolist()) if counts[k] >= 2), 0
    )
    header_row = rows[filled[header_at]]
    header = _unique([str(c).strip() if c is not None else "" for c in header_row])
    width = len(header)
    body = filled[header_at + 1 :].tolist()
    tail = bool(body) and len(body) == len(rows) - body[0]  # no blank row below the header
    data = rows[body[0]:] if tail else [rows[i] for i in body]
    problems = []
    for j in np.flatnonzero(np.fromiter(map(len, data), np.intp, len(data)) != width).tolist():
        row = data[j]
        if _count(row[width:]):
            problems.append(RowProblem(numbers[body[j]], None, None, (
                f"{counts[body[j]]} values but the header has {width} columns "
                "(an unquoted comma in a value?)")))
        data[j] = (row + [None] * width)[:width]
    if not data:
        raise FileUnusable("the file has a header but no data rows")
    frame = pd.DataFrame(data, columns=header, dtype=object)
    return RawTable(frame, None, [numbers[i] for i in body], None, fmt, problems=problems)


def _count(row: list[Any]) -> int:
    return len(row) - row.count(None)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        seen[base] = seen.get(base, 0) + 1
        names[i] = base if seen[base] == 1 else f"{base}.{seen[base] - 1}"
    return names
