"""Delimited text files (CSV, TSV, TXT): the encoding detected, the delimiter guessed."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from itertools import chain
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from zoneguard.imports.limits import Limits
from zoneguard.imports.plaincsv import read_plain
from zoneguard.imports.records import RawTable, table_from_rows
from zoneguard.imports.report import FileUnusable
from zoneguard.imports.vectorised import gc_paused

_ODD = frozenset({"Cc", "Co", "Cs", "Cn"})  # control, private use, surrogate, unassigned


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            # A second BOM (a file saved twice) or one encoded in GB18030 is no header text.
            return text.lstrip("\ufeff"), encoding
    hint = "（它像是 ZIP/XLSX 文件：请检查扩展名）" if data[:2] == b"PK" else ""
    raise FileUnusable(
        f"无法识别文件编码：文件不是 UTF-8 或 GBK/GB18030 文本{hint}。"
        "请另存为“CSV UTF-8（逗号分隔）”后重试"
    )


def _looks_like_text(text: str) -> bool:
    sample = text[:200_000]  # control or unassigned characters betray binary data early
    codes = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    chars, counts = np.unique(codes, return_counts=True)  # classify each distinct character once
    odd = sum(count for char, count in zip(chars.tolist(), counts.tolist(), strict=True)
              if unicodedata.category(chr(char)) in _ODD and chr(char) not in "\t\r\n")
    return "\x00" not in text and odd <= len(sample) // 1000


def read_csv(path: Path, limits: Limits | None = None) -> RawTable:
    """Read a CSV/TSV file of any supported encoding into a RawTable of text cells."""
    limits = limits or Limits()
    data = path.read_bytes()
    text, encoding = decode_text(data)
    first = _first_line(text)
    delimiter = max(",\t;|", key=lambda d: (first.count(d), d == ","))
    # refused before parsing: a header of a million columns takes minutes to read
    limits.check_columns(first.count(delimiter) + 1)
    table = read_plain(_utf8(data, text, encoding), delimiter) if '"' not in text else None
    if table is None:
        table = read_records(text, delimiter, limits)
    limits.check_columns(len(table.frame.columns))
    limits.check_rows(len(table.frame))
    if _longest_line(data) > limits.max_cell_chars:  # else no cell can be longer
        limits.check_frame(table.frame)
    table.encoding = encoding
    return table


def _longest_line(data: bytes) -> int:
    """Return the length in bytes of the longest line (at least its longest cell's chars)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate([[-1], ends, [len(data)]])
    return int(np.diff(bounds).max())


def read_records(text: str, delimiter: str, limits: Limits | None = None) -> RawTable:
    """Read delimited text record by record with Python's csv reader (any quoting)."""
    limits = limits or Limits()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    with gc_paused():
        try:
            rows = list(reader)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileUnusable(
                    f"第 {reader.line_num} 条记录附近有一个单元格超过 "
                    f"{limits.max_cell_chars} 个字符的上限"
                    "（ZONEGUARD_IMPORT_MAX_CELL_CHARS）") from exc
            raise FileUnusable(
                f"第 {reader.line_num} 条记录附近 CSV 格式有误：{exc}（引号未闭合？）"
            ) from exc
        cells, counts = _blanks_to_none(rows)
        return table_from_rows(range(1, len(cells) + 1), cells, counts, fmt="csv")


def _utf8(data: bytes, text: str, encoding: str) -> bytes:
    """Return the file's text as UTF-8 bytes (without a BOM)."""
    if encoding in ("utf-8", "utf-8-sig"):
        while data.startswith(codecs.BOM_UTF8):  # every leading BOM, as decode_text drops
            data = data[len(codecs.BOM_UTF8):]
        return data
    return text.encode("utf-8")


def _first_line(text: str) -> str:
    """Return the first non-blank line, splitting only as much of the text as it takes."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        whole = size >= len(text)
        found = next((line for line in (lines if whole else lines[:-1]) if line.strip()), None)
        if found is not None or whole:
            return found or ""
        size *= 4


def _blanks_to_none(rows: list[list[str]]) -> tuple[list[list[str | None]], NDArray[np.intp]]:
    """Replace empty and whitespace-only cells by None; count each row's other cells."""
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    cells = map(bool, map(str.strip, chain.from_iterable(rows)))  # in C, cell by cell
    filled = np.fromiter(cells, dtype=bool, count=int(lengths.sum()))
    owners = np.repeat(np.arange(len(rows)), lengths)
    out = cast(list[list[str | None]], list(rows))
    for i in np.unique(owners[~filled]).tolist():
        out[i] = [c if c.strip() else None for c in rows[i]]
    return out, np.bincount(owners[filled], minlength=len(rows))
