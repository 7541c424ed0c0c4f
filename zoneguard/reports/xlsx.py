"""Small openpyxl helpers shared by the workbooks: header rows, widths, bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)


def cell_value(value: Any) -> Any:
    """A value openpyxl can store: naive datetimes, text for lists and dicts."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else \
            value.astimezone().replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    if isinstance(value, date | int | float | str) or value is None:
        return value
    return str(value)


def table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          start_row: int = 1, widths: Sequence[int] | None = None) -> int:
    """Write a header row and rows from `start_row`; filter, freeze, widths; return last row."""
    for col, name in enumerate(headers, 1):
        cell = ws.cell(row=start_row, column=col, value=name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    last = start_row
    for last, row in enumerate(rows, start_row + 1):  # noqa: B007 - last row number is used
        for col, value in enumerate(row, 1):
            ws.cell(row=last, column=col, value=cell_value(value))
    ws.auto_filter.ref = f"A{start_row}:{get_column_letter(len(headers))}{max(last, start_row)}"
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1)
    for col, width in enumerate(widths or [], 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return last


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes."""
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
