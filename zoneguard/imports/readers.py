"""Format readers: CSV, XLSX, GeoJSON, Shapefile (plain or zipped) and GeoPackage."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from zoneguard.imports.report import FileUnusable, RowProblem
from zoneguard.imports.vectorised import gc_paused

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "geojson", ".shp": "shapefile", ".zip": "shapefile",
    ".gpkg": "gpkg", ".osm": "osm", ".pbf": "osm",
}
ACCEPTED = "CSV, XLSX, GeoJSON, Shapefile (.shp or .zip), GeoPackage, OSM (.osm, .osm.pbf)"
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_HEADER_SCAN_ROWS = 10
_ODD = frozenset({"Cc", "Co", "Cs", "Cn"})  # control, private, surrogate, unassigned


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


def detect_format(path: Path) -> str:
    """Return the format name of `path` from its extension; raise FileUnusable."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise FileUnusable("legacy Excel .xls is not supported: save it as .xlsx and retry")
    if suffix not in FORMATS:
        raise FileUnusable(f"unknown format {suffix or '(no extension)'!r}; accepted: {ACCEPTED}")
    return FORMATS[suffix]


def input_size(path: Path, fmt: str) -> int:
    """Return the size in bytes of the file (a shapefile counts its sidecar files)."""
    if fmt == "shapefile" and path.suffix.lower() == ".shp":
        files = [_sidecar(path, ext) for ext in _SIDECARS]
        return sum(f.stat().st_size for f in files if f is not None)
    return path.stat().st_size


def _sidecar(shp: Path, ext: str) -> Path | None:
    for candidate in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


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
            return text, encoding
    hint = " (it looks like a ZIP/XLSX file: check the extension)" if data[:2] == b"PK" else ""
    raise FileUnusable(
        f"unreadable encoding: the file is not UTF-8 or GBK/GB18030 text{hint}. "
        "Save it as CSV UTF-8 (逗号分隔, UTF-8) and retry"
    )


def _looks_like_text(text: str) -> bool:
    sample = text[:200_000]  # control or unassigned characters betray binary data early
    codes = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    chars, counts = np.unique(codes, return_counts=True)  # classify each distinct character once
    odd = sum(count for char, count in zip(chars.tolist(), counts.tolist(), strict=True)
              if unicodedata.category(chr(char)) in _ODD and chr(char) not in "\t\r\n")
    return "\x00" not in text and odd <= len(sample) // 1000


def read_csv(path: Path) -> RawTable:
    """Read a CSV/TSV file of any supported encoding into a RawTable of text cells."""
    text, encoding = decode_text(path.read_bytes())
    first = _first_line(text)
    delimiter = max(",\t;|", key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    with gc_paused():
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise FileUnusable(
                f"malformed CSV near record {reader.line_num}: {exc} (an unclosed quote?)"
            ) from exc
        cells, counts = _blanks_to_none(rows)
        table = _table(range(1, len(cells) + 1), cells, counts, fmt="csv")
    table.encoding = encoding
    return table


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


def read_xlsx(path: Path, sheet: str | None) -> RawTable:
    """Read the first (or the named) sheet of an XLSX workbook into a RawTable."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise FileUnusable(f"not a readable XLSX workbook (truncated or corrupt?): {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise FileUnusable(f"no sheet {sheet!r}; the workbook has {workbook.sheetnames}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        records = [
            (n, [None if c is None or (isinstance(c, str) and not c.strip()) else c for c in row])
            for n, row in enumerate(worksheet.iter_rows(values_only=True), 1)
        ]
    finally:
        workbook.close()
    return records_to_table(records, fmt="xlsx")


def records_to_table(records: list[tuple[int, list[Any]]], *, fmt: str) -> RawTable:
    """Build a RawTable from numbered records, skipping title rows above the header."""
    rows = [row for _, row in records]
    counts = np.fromiter(map(_count, rows), dtype=np.intp, count=len(rows))
    return _table([number for number, _ in records], rows, counts, fmt=fmt)


def _table(numbers: Sequence[int], rows: list[list[Any]], counts: NDArray[np.intp], *,
           fmt: str) -> RawTable:
    """Build a RawTable from records and their counts of non-blank cells."""
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
    data = rows[body[0]:] if body and len(body) == len(rows) - body[0] else [rows[i] for i in body]
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


def shapefile_encoding(shp: Path) -> str | None:
    """Return the DBF text encoding to force, or None to let GDAL use .cpg / the LDID."""
    dbf = _sidecar(shp, ".dbf")
    if _sidecar(shp, ".cpg") is not None or dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    texts, offset = [], 1
    spans: list[tuple[int, int]] = []
    for start in range(32, header_len - 31, 32):
        if data[start] == 0x0D:
            break
        texts.append(data[start : start + 11].split(b"\x00")[0])
        width = data[start + 16]
        if data[start + 11 : start + 12] == b"C":
            spans.append((offset, offset + width))
        offset += width
    body = data[header_len : header_len + record_len * 20000]
    for rec in range(0, len(body) - record_len + 1, max(record_len, 1)):
        texts.extend(body[rec + a : rec + b] for a, b in spans)
    blob = b"\n".join(texts)
    if blob.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            blob.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding.upper()
    return None


def _unzip_shapefile(path: Path, workdir: Path, max_bytes: int | None) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FileUnusable("not a valid ZIP archive (truncated or corrupt?)") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if not shps:
            names = ", ".join(m.filename for m in members[:10]) or "nothing"
            raise FileUnusable(f"the ZIP holds no .shp shapefile (found: {names})")
        if len(shps) > 1:
            names = ", ".join(m.filename for m in shps)
            raise FileUnusable(f"the ZIP holds several shapefiles ({names}); import one at a time")
        stem = shps[0].filename[:-4].lower()
        wanted = [m for m in members if m.filename.lower().rsplit(".", 1)[0] == stem]
        total = sum(m.file_size for m in wanted)
        if max_bytes is not None and total > max_bytes:
            raise FileUnusable(too_big(total, max_bytes, "unpacked"))
        for member in wanted:
            ext = member.filename.rsplit(".", 1)[-1].lower()
            (workdir / f"layer.{ext}").write_bytes(archive.read(member))
    return workdir / "layer.shp"


def read_vector(path: Path, fmt: str, *, layer: str | None, max_bytes: int | None) -> RawTable:
    """Read a GeoJSON, Shapefile (or zipped one) or GeoPackage layer with pyogrio."""
    if fmt == "shapefile" and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="zoneguard-import-") as tmp:
            return read_vector(_unzip_shapefile(path, Path(tmp), max_bytes), fmt,
                               layer=None, max_bytes=max_bytes)
    warnings: list[str] = []
    encoding = shapefile_encoding(path) if fmt == "shapefile" else None
    if fmt == "gpkg":
        layer = _gpkg_layer(path, layer, warnings)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
        info_encoding = encoding or pyogrio.read_info(path, layer=layer).get("encoding")
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, GDAL errors
        raise FileUnusable(f"cannot read the file (truncated or corrupt?): {exc}") from exc
    if len(frame) == 0:
        raise FileUnusable("the file has no features")
    if encoding:
        warnings.append(f"the .dbf has no .cpg; detected {encoding} text")
    crs = getattr(frame, "crs", None)
    geometry = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geometry = np.asarray(shapely.force_2d(np.asarray(frame.geometry.array)), dtype=object)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return RawTable(frame.astype(object), geometry, list(range(1, len(frame) + 1)),
                    declared_crs_name(crs), fmt, info_encoding, warnings,
                    declared_wkt=None if crs is None else CRS.from_user_input(crs).to_wkt())


def _gpkg_layer(path: Path, layer: str | None, warnings: list[str]) -> str:
    try:
        layers = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL refuses a damaged database
        raise FileUnusable(f"not a readable GeoPackage (truncated or corrupt?): {exc}") from exc
    names = [n for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise FileUnusable(f"no layer {layer!r}; the GeoPackage has {names}")
        return layer
    spatial = [n for n, g in layers if g] or names
    if not spatial:
        raise FileUnusable("the GeoPackage has no layers")
    if len(spatial) > 1:
        warnings.append(f"the GeoPackage has layers {spatial}; reading {spatial[0]!r}")
    return spatial[0]


def declared_crs_name(crs: Any) -> str | None:
    """Return a file's declared CRS as `EPSG:n` when identifiable, else its name or None."""
    if crs is None:
        return None
    parsed = CRS.from_user_input(crs)
    if parsed.to_authority() == ("OGC", "CRS84"):
        return "EPSG:4326"
    code = parsed.to_epsg()
    return f"EPSG:{code}" if code is not None else str(parsed.name)


def too_big(size: int, limit: int, what: str = "") -> str:
    """Return the message for a file over `max_bytes`."""
    return (f"the file is {size / 1e6:.1f} MB {what}".rstrip() + f", over the limit of "
            f"{limit / 1e6:.1f} MB: split it by district or raise the limit")
