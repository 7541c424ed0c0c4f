"""Format readers: CSV, XLSX, GeoJSON, Shapefile (plain or zipped) and GeoPackage.

CSV and other delimited text is read by `delimited`; every reader returns a `RawTable`.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from zoneguard.imports import gpkg, zipped
from zoneguard.imports.delimited import decode_text, read_csv
from zoneguard.imports.limits import Limits
from zoneguard.imports.records import RawTable, records_to_table
from zoneguard.imports.report import FileUnusable

__all__ = [
    "ACCEPTED", "FORMATS", "RawTable", "declared_crs_name", "decode_text", "detect_format",
    "input_size", "read_csv", "read_vector", "read_xlsx", "records_to_table",
    "shapefile_encoding", "too_big",
]

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "geojson", ".shp": "shapefile", ".zip": "shapefile",
    ".gpkg": "gpkg", ".osm": "osm", ".pbf": "osm",
}
ACCEPTED = "CSV、XLSX、GeoJSON、Shapefile（.shp 或 .zip）、GeoPackage、OSM（.osm、.osm.pbf）"
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def detect_format(path: Path) -> str:
    """Return the format name of `path` from its extension; raise FileUnusable."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise FileUnusable("不支持旧版 Excel .xls 文件：请另存为 .xlsx 后重试")
    if suffix not in FORMATS:
        raise FileUnusable(f"无法识别的文件格式“{suffix or '（无扩展名）'}”；可导入：{ACCEPTED}")
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


def read_xlsx(path: Path, sheet: str | None, limits: Limits | None = None) -> RawTable:
    """Read the first (or the named) sheet of an XLSX workbook into a RawTable."""
    import openpyxl

    limits = limits or Limits()
    zipped.check_zip(path, limits, "XLSX 工作簿")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise FileUnusable(f"无法读取该 XLSX 工作簿（文件不完整或已损坏？）：{exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise FileUnusable(f"没有名为“{sheet}”的工作表；"
                               f"工作簿中有：{'、'.join(workbook.sheetnames)}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        records = _sheet_records(worksheet, limits)
    finally:
        workbook.close()
    table = records_to_table(records, fmt="xlsx")
    limits.check_frame(table.frame)  # cell lengths, column by column
    return table


def _sheet_records(worksheet: Any, limits: Limits) -> list[tuple[int, list[Any]]]:
    """Return the numbered rows of a sheet, refusing one over the row or column limits."""
    records = []
    most, max_columns, trimmed = limits.max_rows + 10, limits.max_columns, False
    for n, row in enumerate(worksheet.iter_rows(values_only=True), 1):
        if n > most:  # title rows and the header come before the data rows
            limits.check_rows(n - 1, at_least=True)
        cells = [None if c is None or (isinstance(c, str) and not c.strip()) else c for c in row]
        if len(cells) > max_columns:  # a declared sheet size may count empty cells
            width = len(cells)
            while width and cells[width - 1] is None:
                width -= 1
            limits.check_columns(width)
            cells, trimmed = cells[:width], True
        records.append((n, cells))
    if not trimmed:
        return records
    widest = max(len(cells) for _, cells in records)
    return [(n, cells + [None] * (widest - len(cells))) for n, cells in records]


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


def _unzip_shapefile(path: Path, workdir: Path, limits: Limits) -> Path:
    with zipped.open_zip(path, limits) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if not shps:
            names = ", ".join(m.filename for m in members[:10]) or "空"
            raise FileUnusable(f"压缩包中没有 .shp 文件（只有：{names}）")
        if len(shps) > 1:
            names = ", ".join(m.filename for m in shps)
            raise FileUnusable(f"压缩包中有多个 Shapefile（{names}）；请一次导入一个")
        stem = shps[0].filename[:-4].lower()
        wanted = [m for m in members if m.filename.lower().rsplit(".", 1)[0] == stem]
        budget = zipped.Budget(limits)
        for member in wanted:
            ext = member.filename.rsplit(".", 1)[-1].lower()
            budget.extract(archive, member, workdir / f"layer.{ext}")
    return workdir / "layer.shp"


def read_vector(path: Path, fmt: str, *, layer: str | None, max_bytes: int | None = None,
                limits: Limits | None = None) -> RawTable:
    """Read a GeoJSON, Shapefile (or zipped one) or GeoPackage layer with pyogrio."""
    limits = limits or Limits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    if fmt == "shapefile" and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="zoneguard-import-") as tmp:
            return read_vector(_unzip_shapefile(path, Path(tmp), limits), fmt,
                               layer=None, limits=limits)
    warnings: list[str] = []
    encoding = shapefile_encoding(path) if fmt == "shapefile" else None
    if fmt == "gpkg":
        layer = _gpkg_layer(path, layer, warnings)
        gpkg.check_layer(path, layer)
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        limits.check_columns(len(info.get("fields", ())))
        if int(info.get("features") or 0) > 0:  # -1 or 0: the driver does not know cheaply
            limits.check_rows(int(info["features"]))
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding,
                                       max_features=limits.max_rows + 1)
    except FileUnusable:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, GDAL errors
        raise FileUnusable(f"无法读取该文件（文件不完整或已损坏？）：{exc}") from exc
    limits.check_rows(len(frame), at_least=len(frame) > limits.max_rows)
    info_encoding = encoding or info.get("encoding")
    if len(frame) == 0:
        raise FileUnusable("文件中没有任何要素")
    if encoding:
        warnings.append(f".dbf 没有配套的 .cpg 编码文件；按检测到的 {encoding} 编码读取")
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
        raise FileUnusable(f"无法读取该 GeoPackage（文件不完整或已损坏？）：{exc}") from exc
    names = [n for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise FileUnusable(f"没有名为“{layer}”的图层；该 GeoPackage 中有：{names}")
        return layer
    spatial = [n for n, g in layers if g] or names
    if not spatial:
        raise FileUnusable("该 GeoPackage 中没有图层")
    if len(spatial) > 1:
        warnings.append(f"该 GeoPackage 有多个图层（{'、'.join(spatial)}）；读取“{spatial[0]}”")
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
    return (f"文件{what}有 {size / 1e6:.1f} MB，超过 {limit / 1e6:.1f} MB 的上限："
            "请按区县拆分，或调高上限")
