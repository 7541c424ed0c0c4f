"""Small openpyxl helpers shared by the workbooks: header rows, widths, bytes.

Every cell goes through `zoneguard.cells`, so data is never written as a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zoneguard.cells import put, xlsx_value

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)


def cell_value(value: Any) -> Any:
    """A value openpyxl can store as data: naive datetimes, numbers, cleaned text."""
    return xlsx_value(value)


def table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          start_row: int = 1, widths: Sequence[int] | None = None) -> int:
    """Write a header row and rows from `start_row`; filter, freeze, widths; return last row."""
    for col, name in enumerate(headers, 1):
        cell = put(ws, start_row, col, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    last = start_row
    for last, row in enumerate(rows, start_row + 1):  # noqa: B007 - last row number is used
        for col, value in enumerate(row, 1):
            put(ws, last, col, value)
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
