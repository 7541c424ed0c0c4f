"""Reading and validating import files: schools, gates and premises registries.

`read_table` reads CSV, XLSX, GeoJSON, Shapefile (plain or zipped), GeoPackage and OSM
files into a canonical EPSG:4326 frame plus a row-level report; nothing touches the
database. Whole-file problems raise `ImportProblem` (its `extra["report"]` holds the
report); row problems are returned so the caller can choose all-or-nothing or skip-invalid.

Options of `read_table`: `crs` names the coordinates' CRS (required unless the file
declares one, which must then be confirmed; OSM is always WGS 84); `column_map` maps
`COLUMN -> field` over the built-in aliases (see `columns`); `category` is the category
of rows without one (for OSM: the only category kept); `region` the GB/T 2260 code of rows
without one; `known_categories` the categories the rule set names; `max_bytes` a size
limit; `limits` every bound on the input (`limits.Limits`: unpacked bytes, rows, columns,
cell length, entrance distance; `max_bytes`, when given, overrides its byte limit);
`sheet` / `layer` pick an XLSX sheet or a GeoPackage layer.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
from pyproj import CRS

from spatial.crs import CrsSpec, parse_crs
from spatial.errors import CrsError
from zoneguard.imports import columns, jsontext, osm, readers, validate
from zoneguard.imports.intake import check_region, file_sha256
from zoneguard.imports.limits import Limits
from zoneguard.imports.report import (
    FileUnusable,
    ImportKind,
    ParsedImport,
    RowProblem,
    file_problem,
    write_rejected,
    write_report,
    write_report_files,
)

__all__ = [
    "ImportKind",
    "Limits",
    "ParsedImport",
    "RowProblem",
    "read_table",
    "write_rejected",
    "write_report",
    "write_report_files",
]

CRS_FORMS = "wgs84、cgcs2000、gcj02、bd09 或 EPSG:代码"


def read_table(
    path: Path,
    *,
    kind: ImportKind,
    crs: str | None,
    column_map: dict[str, str] | None = None,
    category: str | None = None,
    region: str | None = None,
    known_categories: set[str] | None = None,
    max_bytes: int | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    limits: Limits | None = None,
) -> ParsedImport:
    """Read and validate an import file (EPSG:4326 out); raise ImportProblem if unusable."""
    path = Path(path)
    limits = limits or Limits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    try:
        return _read(path, kind, crs, column_map, category, region, known_categories,
                     limits, sheet, layer)
    except FileUnusable as exc:
        raise file_problem(exc.detail, file_name=path.name, kind=kind, **exc.facts) from exc


def _read(path: Path, kind: ImportKind, crs: str | None, column_map: dict[str, str] | None,
          category: str | None, region: str | None, known_categories: set[str] | None,
          limits: Limits, sheet: str | None, layer: str | None) -> ParsedImport:
    if kind not in columns.FIELDS:
        raise FileUnusable(f"无法识别的导入类型“{kind}”；"
                           "可选 schools（学校）、gates（校门）、premises（场所）、"
                           "facilities（设施）")
    if not path.is_file():
        raise FileUnusable("文件不存在")
    fmt = readers.detect_format(path)
    size = readers.input_size(path, fmt)
    if size == 0:
        raise FileUnusable("文件是空的（0 字节）")
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise FileUnusable(readers.too_big(size, limits.max_bytes))
    check_region(region)
    if category is not None:
        try:
            category = columns.parse_category(category, known_categories)
        except ValueError as exc:
            raise FileUnusable(f"场所类别（--category）：{exc}") from exc
    user_crs = _parse_user_crs(crs)
    if fmt == "osm" and user_crs is not None and user_crs.name != "EPSG:4326":
        raise FileUnusable(f"OSM 数据一律是 WGS 84（EPSG:4326），不是 {user_crs.name}："
                           "请不选坐标系，或选 wgs84")
    if fmt == "osm" and kind == "facilities":
        raise FileUnusable("OSM 文件不能导入设施：请用 CSV、XLSX、GeoJSON、Shapefile 或 GeoPackage")
    if fmt == "osm":
        raw = osm.read_osm(path, kind=kind, category=category)
    elif fmt == "csv":
        raw = readers.read_csv(path, limits)
    elif fmt == "xlsx":
        raw = readers.read_xlsx(path, sheet, limits)
    else:
        raw = readers.read_vector(path, fmt, layer=layer, limits=limits)
    if fmt not in ("csv", "xlsx"):  # those two are checked by their readers
        limits.check_frame(raw.frame)
    source, crs_warnings = _resolve_crs(user_crs, raw)
    cols, col_warnings = _columns(raw, kind, column_map)
    context = validate.Context(kind, source, region, category, known_categories,
                               path.stem, limits.max_entrance_m)
    frame, problems = validate.validate(raw, cols, context)
    warnings = raw.warnings + crs_warnings + col_warnings + _derived_warnings(raw, cols, kind)
    return ParsedImport(
        kind=kind, frame=frame, problems=problems,
        rejected_rows={p.row for p in problems if p.severity == "error"},
        source_crs=source.name, declared_crs=raw.declared_crs, file_name=path.name,
        file_sha256=file_sha256(path), encoding=raw.encoding, warnings=warnings, format=fmt,
        attributes_json=_attributes_json(raw),
    )


def _attributes_json(raw: readers.RawTable) -> pa.Array | None:
    if raw.attributes_json is not None:
        return raw.attributes_json
    return jsontext.frame_json(raw.frame) if raw.attributes is None else None


def _parse_user_crs(crs: str | None) -> CrsSpec | None:
    if crs is None:
        return None
    try:
        return parse_crs(crs)
    except CrsError as exc:
        raise FileUnusable(f"坐标系（--crs）：{exc}") from exc


def _same_crs(user: CrsSpec, declared: str, wkt: str | None) -> bool:
    if user.name == declared:
        return True
    if user.kind != "epsg" or wkt is None:
        return False
    return bool(CRS.from_wkt(wkt).equals(user.name, ignore_axis_order=True))


def _resolve_crs(user: CrsSpec | None, raw: readers.RawTable) -> tuple[CrsSpec, list[str]]:
    declared, fmt = raw.declared_crs, raw.format
    if fmt == "osm":
        return parse_crs("EPSG:4326"), []
    if declared is None:
        if user is None:
            raise FileUnusable(
                f"请选择坐标系（--crs）：{fmt.upper()} 文件没有写明坐标用的是哪个坐标系；"
                f"可选 {CRS_FORMS}（高德、腾讯导出的是 gcj02，百度导出的是 bd09）"
            )
        return user, []
    if user is None:
        confirm = f"--crs {declared}" if declared.startswith("EPSG:") else "--crs EPSG:<code>"
        raise FileUnusable(
            f"文件声明的坐标系是 {declared}：请用 {confirm} 确认，或指明坐标实际所用的坐标系"
            "（如高德数据选 gcj02）。系统不做猜测"
        )
    if _same_crs(user, declared, raw.declared_wkt):
        return user, []
    return user, [f"文件声明的坐标系是 {declared}，但所选坐标系是 {user.name}；按 {user.name} 换算"]


def _columns(raw: readers.RawTable, kind: ImportKind,
             column_map: dict[str, str] | None) -> tuple[dict[str, str], list[str]]:
    headers = [str(c) for c in raw.frame.columns]
    for column, fieldname in (column_map or {}).items():
        if column not in headers:
            raise FileUnusable(f"列对应（--column）中的列“{column}”在文件中不存在；"
                               f"文件中的列为：{'、'.join(headers)}")
        if fieldname not in columns.FIELDS[kind]:
            raise FileUnusable(f"列对应（--column）把“{column}”对应到未知字段“{fieldname}”；"
                               f"可用字段：{'、'.join(columns.FIELDS[kind])}")
    return columns.resolve_columns(headers, kind, column_map)


def _derived_warnings(raw: readers.RawTable, cols: dict[str, str], kind: ImportKind) -> list[str]:
    warnings = []
    if raw.geometry is not None and {"lon", "lat"} <= cols.keys():
        warnings.append(f"文件既有几何又有坐标列（{cols['lon']}、{cols['lat']}）："
                        "以几何为准，没有几何的要素才用坐标列")
    if kind == "schools" and "code" not in cols:
        warnings.append("没有学校标识码列：按名称和位置生成代码（gen:<sha1>），"
                        "同名同址的学校代码保持不变")
    if kind == "premises" and "licence_no" not in cols and "source_id" in cols:
        warnings.append(f"没有许可证号列：许可证号由“{cols['source_id']}”列生成，"
                        "形如 <文件名>#<编号>")
    return warnings


