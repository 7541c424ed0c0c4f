"""Delimited text without quotes, read column-wise by pyarrow.

Without a quote character a record is one line and a cell the text between two delimiters,
so Python's `csv` reader and pyarrow's parser split such a file alike. This path takes a
file only when every non-empty line has the same number of delimiters (no title row, no
ragged row); anything else goes to the `csv` reader, which reports it row by row. The
RawTable is the one that reader would build: the same cells (blank ones None), the same
record numbers (empty lines count), and the attributes' JSON text built column-wise.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from zoneguard.imports.jsontext import json_objects
from zoneguard.imports.records import RawTable, find_header, header_names
from zoneguard.imports.report import FileUnusable

#: What `str.strip()` removes: every character Python calls whitespace (none above U+3000).
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_CR, _LF = 13, 10


def read_plain(body: bytes, delimiter: str) -> RawTable | None:
    """Return the RawTable of quote-free UTF-8 text, or None when the lines are ragged."""
    lines = _lines(body, delimiter)
    if lines is None:
        return None
    numbers, width = lines
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False,
                                             escape_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False),
        )
    except pa.ArrowInvalid:  # whatever pyarrow refuses, the csv reader words for the user
        return None
    if table.num_rows != len(numbers):
        return None
    cells = [table.column(i).combine_chunks() for i in range(width)]
    blank = np.column_stack([_blank(column) for column in cells])
    counts = width - blank.sum(axis=1)
    filled, header_at = find_header(counts)
    top = int(filled[header_at])
    header = header_names([None if blank[top, j] else cells[j][top].as_py()
                           for j in range(width)])
    body_rows = filled[header_at + 1:]
    if not len(body_rows):
        raise FileUnusable("文件只有表头，没有数据行")
    take = pa.array(body_rows)
    columns = [pc.if_else(pa.array(blank[:, j]), pa.scalar(None, pa.string()), cells[j])
               .take(take) for j in range(width)]
    frame = pd.DataFrame({name: column.to_numpy(zero_copy_only=False)
                          for name, column in zip(header, columns, strict=True)}, dtype=object)
    return RawTable(frame, None, numbers[body_rows].tolist(), None, "csv",
                    attributes_json=json_objects(header, columns, len(body_rows)))


def _lines(body: bytes, delimiter: str) -> tuple[NDArray[np.intp], int] | None:
    """Return the record numbers of the non-empty lines and their cell count, if all equal.

    A line longer than the csv reader's field limit may hold a cell it refuses: not here.

    Lines end at LF, CR or CR LF, as for the csv reader; an empty line is a record of no
    cells (counted, never parsed), and the text after the last line end, if any, is one.
    """
    raw = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(raw == _LF)
    stops = ends.copy()
    if _CR in raw:
        returns = np.flatnonzero(raw == _CR)
        after = np.minimum(returns + 1, len(raw) - 1)
        pair = (returns + 1 < len(raw)) & (raw[after] == _LF)
        ends = np.sort(np.concatenate([ends, returns[~pair]]))
        stops = ends - _members(ends, returns[pair] + 1)  # CR LF: the line stops at the CR
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([stops, [len(raw)]])
    if starts[-1] == len(raw):  # the text ends with a line end: no record after it
        starts, stops = starts[:-1], stops[:-1]
    delimiters = np.flatnonzero(raw == ord(delimiter))
    per_line = np.searchsorted(delimiters, stops) - np.searchsorted(delimiters, starts)
    used = stops > starts
    if not used.any() or (stops - starts).max() > csv.field_size_limit() or \
             (per_line[used] != per_line[used][0]).any():
        return None
    return np.flatnonzero(used) + 1, int(per_line[used][0]) + 1


def _members(values: NDArray[np.intp], sorted_set: NDArray[np.intp]) -> NDArray[np.intp]:
    """Return 1 where a value of the sorted array `values` is in `sorted_set`, else 0."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=np.intp)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[at] == values, dtype=np.intp)


def _blank(column: pa.Array) -> NDArray[np.bool_]:
    """Return where a cell is empty or whitespace only (what `str.strip` empties)."""
    trimmed = pc.utf8_trim(column, characters=WHITESPACE)
    return np.asarray(pc.equal(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False))
