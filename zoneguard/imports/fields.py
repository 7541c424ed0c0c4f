"""The cells of an import table by input field, checked column by column, with the problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zoneguard.imports import columns as C
from zoneguard.imports import vectorised as V
from zoneguard.imports.records import RawTable
from zoneguard.imports.report import RowProblem, Severity


class Fields:
    """A table's cells by input field and the problems found, in the user's row numbers.

    `parsed`, `text` and `floats` check a whole column at once (`vectorised`); a cell with
    a problem is reported exactly as the per-cell parser of `columns` words it.
    """

    def __init__(self, raw: RawTable, cols: dict[str, str]) -> None:
        self.numbers, self.cols, self.problems = raw.source_rows, cols, list(raw.problems)
        self.values = {f: raw.frame[c].tolist() for f, c in cols.items()}
        self.n = len(raw.frame)
        self.flagged: set[int] = set()

    def get(self, fieldname: str) -> list[Any]:
        """Return the cells of a field (all None when the file lacks it)."""
        return self.values.get(fieldname, [None] * self.n)

    def add(self, i: int, fieldname: str, value: Any, text: str,
            severity: Severity = "error") -> None:
        """Report a problem of row `i` (0-based) in the column of `fieldname`."""
        shown = C.as_text(value)
        if severity == "error":
            self.flagged.add(i)
        self.problems.append(RowProblem(self.numbers[i], self.cols.get(fieldname, fieldname),
                                        shown[:200] if shown else None, text, severity))

    def parse(self, i: int, fieldname: str, value: Any, parser: Callable[[Any], Any],
              message: str = "{exc}") -> Any:
        """Return parser(value), or None after reporting its ValueError."""
        try:
            return parser(value)
        except ValueError as exc:
            self.add(i, fieldname, value, message.format(exc=exc))
            return None

    def parsed(self, fieldname: str, parser: Callable[[Any], Any],
               message: str = "{exc}") -> list[Any]:
        """Return parser(cell) of every cell of a field (None where it failed, reported)."""
        values = self.get(fieldname)
        out, failures = V.map_cells(values, parser)
        for i, exc in failures:
            self.add(i, fieldname, values[i], message.format(exc=exc))
        return out

    def text(self, fieldname: str, missing: str | None = None) -> list[str | None]:
        """Return the cells of a field as text; report blank ones when `missing` names it."""
        out = V.texts(self.get(fieldname))
        if missing is not None:
            for i in (i for i, text in enumerate(out) if text is None):
                self.add(i, fieldname, None, f"{missing}为空")
        return out

    def floats(self, fieldname: str) -> NDArray[np.float64]:
        """Return the cells of a field as numbers (NaN where blank or not a number)."""
        values = self.get(fieldname)
        out, undecided = V.numbers(values)
        for i in undecided.tolist():
            number = self.parse(i, fieldname, values[i], C.parse_number, "不是数字")
            out[i] = np.nan if number is None else number
        return out
