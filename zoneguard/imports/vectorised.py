"""Whole-column versions of the cell parsers in `columns`, exact cell for cell.

A parser runs once per distinct value and its result is broadcast; numbers are parsed in one
array pass. Whatever a fast path cannot decide exactly (a cell that is not plain text, a
number Python's `float` refuses) is left to the per-cell parser, so results and messages are
those of `columns` on every cell.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from zoneguard.imports import columns as C
from zoneguard.imports.report import jsonable

T = TypeVar("T")
Failures = list[tuple[int, ValueError]]
_PLAIN = frozenset({str, type(None)})
_JSON_NATIVE = frozenset({str, bool, int, type(None)})


def is_plain(values: Sequence[Any]) -> bool:
    """Return True when every cell is text or None (as CSV cells are): safe to group by value."""
    return set(map(type, values)) <= _PLAIN


def map_cells(values: Sequence[Any], parse: Callable[[Any], T]) -> tuple[list[T | None], Failures]:
    """Return `parse(cell)` of every cell (None where it raised ValueError) and the failures."""
    if len(values) and values.count(None) == len(values):  # a column the file does not have
        try:
            return [parse(None)] * len(values), []
        except ValueError as exc:
            return [None] * len(values), [(i, exc) for i in range(len(values))]
    if not is_plain(values):
        return _each(values, parse)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    failed: dict[int, ValueError] = {}
    for k, value in enumerate(uniques.tolist()):
        try:  # factorize reports the None group as NaN: hand the parser the cell it saw
            results[k] = parse(value if isinstance(value, str) else None)
        except ValueError as exc:
            results[k] = None
            failed[k] = exc
    out: list[T | None] = results[codes].tolist()
    failures = [(int(i), failed[k]) for k in failed for i in np.flatnonzero(codes == k)]
    return out, sorted(failures, key=lambda f: f[0])


def _each(values: Sequence[Any], parse: Callable[[Any], T]) -> tuple[list[T | None], Failures]:
    out: list[T | None] = []
    failures: Failures = []
    for i, value in enumerate(values):
        try:
            out.append(parse(value))
        except ValueError as exc:
            out.append(None)
            failures.append((i, exc))
    return out, failures


def texts(values: Sequence[Any]) -> list[str | None]:
    """Return `columns.as_text` of every cell."""
    if is_plain(values):
        return [None if v is None else (v.strip() or None) for v in values]
    return [C.as_text(v) for v in values]


def numbers(values: Sequence[Any]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Return cells as floats (NaN where blank or undecided) and the undecided cells' indices.

    A decided cell holds what `columns.parse_number` returns; the undecided ones (text that
    is not a plain finite number, any cell that is not text) need `parse_number` itself.
    """
    n = len(values)
    out = np.full(n, np.nan)
    if not is_plain(values):
        return out, np.arange(n, dtype=np.intp)
    cells = np.asarray(values, dtype=object)
    given = np.flatnonzero([v is not None for v in values])
    text = cells[given]
    try:  # object → float64 calls Python's float on each cell, as parse_number does
        parsed = text.astype(np.float64)
        candidate = np.ones(len(text), dtype=bool)
    except ValueError:  # some cell is not a plain number: let pandas pick the candidates
        guess = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce")
        candidate = np.isfinite(guess.to_numpy(dtype=np.float64, na_value=np.nan))
        try:
            parsed = text[candidate].astype(np.float64)
        except ValueError:  # pandas accepted a cell float() refuses: decide none here
            return out, given
    decided = np.zeros(len(text), dtype=bool)
    decided[candidate] = np.isfinite(parsed)
    out[given[candidate]] = parsed
    out[given[~decided]] = np.nan
    return out, given[~decided]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk step builds many containers.

    Building a few hundred thousand row lists and dicts triggers repeated full collections
    that find no cycles; they cost as much as the work itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def first_rows(keys: Sequence[Sequence[Any]]) -> NDArray[np.intp]:
    """Return, for every row, the index of the first row with an equal key (tuple of cells)."""
    n = len(keys[0])
    code = np.zeros(n, dtype=np.int64)
    for column in keys:
        part, uniques = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=False)
        code, _ = pd.factorize(code * len(uniques) + part)
    _, first = np.unique(code, return_index=True)
    return np.asarray(first[code], dtype=np.intp)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return every row's cells as a JSON-ready dict (`jsonable`), converted column by column."""
    names = [str(k) for k in frame.columns]
    if len(set(names)) != len(names):  # let to_dict decide which of equal keys wins
        return [{str(k): jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")]
    if not names:
        return [{} for _ in range(len(frame))]
    cells = []
    for i in range(len(names)):
        values = frame.iloc[:, i].tolist()
        native = set(map(type, values)) <= _JSON_NATIVE  # jsonable returns these unchanged
        cells.append(values if native else [jsonable(v) for v in values])
    # map(zip, ...) pairs names and cells in C; a row has a cell for every name
    return list(map(dict, map(zip, repeat(names), zip(*cells, strict=True))))


def centroid_xy(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return x, y (CRS units) of every geometry's centroid, NaN for None."""
    point = shapely.get_type_id(geoms) == 0
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    # GEOS takes a point's centroid as (0 + x) / 1: the same numbers, -0.0 turned into 0.0
    x[point] = shapely.get_x(geoms[point]) + 0.0
    y[point] = shapely.get_y(geoms[point]) + 0.0
    other = ~point
    if other.any():
        centroids = shapely.centroid(geoms[other])
        x[other], y[other] = shapely.get_x(centroids), shapely.get_y(centroids)
    return x, y
