"""Safe cells for every spreadsheet and CSV ZoneGuard writes.

Data never becomes a formula: XLSX text cells are written as strings (type `s`, never `f`),
and CSV text that starts with `= + - @`, a tab or a carriage return gets a leading `'`
(OWASP CSV injection) unless it is a plain number such as `-3.5`. Numbers stay numbers and
dates stay dates. Characters that XML forbids are dropped, and text longer than Excel's cell
limit is cut with a visible marker.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

BEIJING = "Asia/Shanghai"
EXCEL_CELL_LIMIT = 32_767
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 forbids C0 controls other than tab, line feed and carriage return; so does openpyxl.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _marker(length: int) -> str:
    return f"…〔已截断：原文 {length} 个字符，超过单元格上限 {EXCEL_CELL_LIMIT}〕"


def clean_text(value: str) -> str:
    """Text without XML-illegal control characters, cut to Excel's cell limit with a marker."""
    text = _ILLEGAL.sub("", value)
    if len(text) <= EXCEL_CELL_LIMIT:
        return text
    marker = _marker(len(text))
    return text[:EXCEL_CELL_LIMIT - len(marker)] + marker


def _plain(value: Any) -> Any:
    """Python scalars for numpy/pandas values; None for NaN, NaT and missing."""
    if type(value).__name__ in ("NaTType", "NAType"):  # pandas' missing values
        return None
    if value is None or isinstance(value, str | bool | int | Decimal | date | time):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and isinstance(value, numbers.Number):
        return _plain(item())
    return value


def xlsx_value(value: Any) -> Any:
    """A value openpyxl stores as data: number, date (naive) or cleaned text, never a formula.

    Excel stores no time zone: an aware datetime becomes the naive Beijing time.
    """
    value = _plain(value)
    if isinstance(value, datetime):
        return value if value.tzinfo is None else \
            value.astimezone(ZoneInfo(BEIJING)).replace(tzinfo=None)
    if value is None or isinstance(value, bool | int | float | Decimal | date | time):
        return value
    if isinstance(value, list | tuple):
        return clean_text("、".join(str(v) for v in value))
    return clean_text(str(value))


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write `value` into a cell as data: text is a string cell even when it starts with '='."""
    cell: Cell = ws.cell(row=row, column=column)
    safe = xlsx_value(value)
    cell.value = safe
    if isinstance(safe, str):
        cell.data_type = "s"  # openpyxl would read a leading '=' as a formula
    return cell


def put_at(ws: Worksheet, coordinate: str, value: Any) -> Cell:
    """Write `value` at an A1-style coordinate as data (see `put`)."""
    target: Cell = ws[coordinate]
    return put(ws, target.row, target.column, value)


def csv_value(value: Any) -> Any:
    """A CSV field: numbers as they are, text neutralised against formula injection."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    text = clean_text(str(value))
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text  # a plain signed number such as -3.5 cannot run anything
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row of safe CSV fields."""
    return [csv_value(v) for v in values]


class SafeCsvWriter:
    """`csv.writer` whose every field goes through `csv_value`."""

    def __init__(self, handle: IO[str], **fmtparams: Any) -> None:
        """Wrap a text handle opened with newline=''."""
        self._writer = csv.writer(handle, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row of neutralised fields."""
        self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows of neutralised fields."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """`csv.DictWriter` whose every field goes through `csv_value` (header included)."""

    def __init__(self, handle: IO[str], fieldnames: Sequence[str], **fmtparams: Any) -> None:
        """Wrap a text handle opened with newline=''."""
        self.fieldnames = list(fieldnames)
        self._writer = SafeCsvWriter(handle, **fmtparams)

    def writeheader(self) -> None:
        """Write the header row."""
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: dict[str, Any]) -> None:
        """Write one row by field name; missing fields are empty."""
        self._writer.writerow(row.get(name) for name in self.fieldnames)


def csv_text(headers: Sequence[str], rows: Iterable[Iterable[Any]], **fmtparams: Any) -> str:
    """A whole CSV document (header row first) with every field neutralised."""
    out = io.StringIO(newline="")
    writer = SafeCsvWriter(out, **fmtparams)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()
