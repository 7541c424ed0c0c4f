"""Bounds on what an import file may hold, so a hostile file is refused, never absorbed.

Every bound is a setting (`ZONEGUARD_IMPORT_*`, `ZONEGUARD_MAX_ENTRANCE_M`); `Limits` carries
them from the CLI or the API down to the readers, which check them while they read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from zoneguard.imports.report import FileUnusable

if TYPE_CHECKING:
    from zoneguard.settings import Settings

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Largest input accepted: bytes, unpacked bytes, ZIP members, rows, columns, cells."""

    max_bytes: int | None = 200 * MIB
    max_unpacked_bytes: int = 1024 * MIB
    max_members: int = 1000
    max_rows: int = 2_000_000
    max_columns: int = 500
    max_cell_chars: int = 64 * 1024
    #: Farthest a premises' entrance may lie from its point (metres, geodesic); None: no check.
    max_entrance_m: float | None = 50.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Return the limits configured in `settings`."""
        return cls(max_bytes=settings.import_max_bytes,
                   max_unpacked_bytes=settings.import_max_unpacked_bytes,
                   max_members=settings.import_max_members,
                   max_rows=settings.import_max_rows,
                   max_columns=settings.import_max_columns,
                   max_cell_chars=settings.import_max_cell_chars,
                   max_entrance_m=settings.max_entrance_m)

    def check_columns(self, count: int) -> None:
        """Refuse a table wider than `max_columns`."""
        if count > self.max_columns:
            raise FileUnusable(
                f"文件有 {count} 列，超过 {self.max_columns} 列的上限"
                "（ZONEGUARD_IMPORT_MAX_COLUMNS）：请只保留导入需要的列")

    def check_rows(self, count: int, *, at_least: bool = False) -> None:
        """Refuse a table of more than `max_rows` data rows (`at_least`: count not final)."""
        if count > self.max_rows:
            rows = f"超过 {self.max_rows}" if at_least else f"有 {count}"
            raise FileUnusable(
                f"文件{rows} 行，超过 {self.max_rows} 行的上限"
                "（ZONEGUARD_IMPORT_MAX_ROWS）：请按区县拆分")

    def check_cell(self, length: int, where: str = "") -> None:
        """Refuse a cell longer than `max_cell_chars` characters."""
        if length > self.max_cell_chars:
            at = where or ""
            raise FileUnusable(
                f"{at}有一个单元格长 {length} 个字符，超过 "
                f"{self.max_cell_chars} 个字符的上限（ZONEGUARD_IMPORT_MAX_CELL_CHARS）")

    def check_frame(self, frame: pd.DataFrame) -> None:
        """Refuse a frame over the column, row or cell limits (text cells only)."""
        self.check_columns(len(frame.columns))
        self.check_rows(len(frame))
        for name in frame.columns:
            values = frame[name].to_numpy()
            lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in values),
                                  dtype=np.int64, count=len(values))
            if len(lengths) and int(lengths.max()) > self.max_cell_chars:
                self.check_cell(int(lengths.max()), f"“{name}”列")

