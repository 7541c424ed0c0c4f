"""Row-level validation: a RawTable becomes the canonical EPSG:4326 frame plus problems.

Columns are checked whole (`vectorised`); only the cells with a problem take the per-cell
path, so a problem reads the same whatever the file's size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.crs import CrsSpec, geometries_to_wgs84
from zoneguard.facility_kinds import derived_facility_code, facility_kinds, parse_kind
from zoneguard.imports import columns as C
from zoneguard.imports import vectorised as V
from zoneguard.imports.entrances import entrance_too_far, far_entrances
from zoneguard.imports.fields import Fields
from zoneguard.imports.records import RawTable
from zoneguard.imports.report import FileUnusable, RowProblem

__all__ = ["Context", "check_required", "entrance_too_far", "in_china", "is_chinese_region",
           "validate"]

#: Rough extent of China (lon_min, lat_min, lon_max, lat_max), degrees.
CHINA_BBOX = (73.0, 3.8, 135.1, 53.6)
_REQUIRED = {"schools": ("name", "levels"), "gates": ("school_code",), "premises": ("name",),
             "facilities": ("kind", "name")}
_POINT_ONLY = {"gates", "premises", "facilities"}


@dataclass(frozen=True)
class Context:
    """What the caller said about the file."""

    kind: str
    crs: CrsSpec
    region: str | None
    category: str | None
    known_categories: set[str] | None
    file_stem: str
    #: Farthest a premises' entrance may lie from its point (metres); None: not checked.
    max_entrance_m: float | None = None


def is_chinese_region(code: str | None) -> bool:
    """Return True for a GB/T 2260 code of a Chinese province-level area (11-82)."""
    return bool(code and C.REGION_CODE.fullmatch(code) and 11 <= int(code[:2]) <= 82)


def in_china(lon: Any, lat: Any) -> Any:
    """Return whether lon/lat (degrees, arrays) fall inside the rough China extent."""
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def check_required(raw: RawTable, cols: dict[str, str], ctx: Context) -> None:
    """Raise FileUnusable naming every required field the file lacks."""
    missing = [f for f in _REQUIRED[ctx.kind] if f not in cols]
    if raw.geometry is None and not {"lon", "lat"} <= cols.keys():
        missing += [f for f in ("lon", "lat") if f not in cols]
    if ctx.kind == "premises":
        if "licence_no" not in cols and "source_id" not in cols:
            missing.append("licence_no")
        if "category" not in cols and ctx.category is None:
            missing.append("category")
    if missing:
        table = C.aliases(ctx.kind)
        wanted = "；".join(f"{C.field_label(m)}（可用列名：{'、'.join(table.get(m, ())[:4])}）"
                          for m in missing)
        category = "；或选定场所类别（--category）" if "category" in missing else ""
        raise FileUnusable(
            f"缺少必需的列：{wanted}。文件中的列为：{'、'.join(map(str, raw.frame.columns))}；"
            f"请改列名，或用 --column '列名=字段' 指定对应关系{category}"
        )


def validate(raw: RawTable, cols: dict[str, str], ctx: Context) -> tuple[gpd.GeoDataFrame,
                                                                           list[RowProblem]]:
    """Validate every row and return the canonical frame (EPSG:4326) and the problems."""
    check_required(raw, cols, ctx)
    with V.gc_paused():
        return _validate(raw, cols, ctx)


def _validate(raw: RawTable, cols: dict[str, str], ctx: Context) -> tuple[gpd.GeoDataFrame,
                                                                            list[RowProblem]]:
    rows = Fields(raw, cols)
    regions = rows.parsed("region", lambda v: C.parse_region(v, ctx.region))
    geoms = _locate(raw, regions, ctx, rows)
    record: dict[str, Any] = {"region": regions}
    if ctx.kind == "schools":
        _schools(geoms, record, rows)
    elif ctx.kind == "gates":
        _gates(record, rows)
    elif ctx.kind == "facilities":
        _facilities(geoms, record, rows)
    else:
        _premises(geoms, record, ctx, rows)
    data = {c: record[c] for c in C.COLUMNS[ctx.kind]}
    data["attributes"] = raw.attributes or V.records(raw.frame)
    data["source_row"] = raw.source_rows
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")
    return frame, sorted(rows.problems, key=lambda p: p.row)


def _points(rows: Fields, x: str, y: str) -> np.ndarray[Any, Any]:
    lon, lat = rows.floats(x), rows.floats(y)
    out = np.full(rows.n, None, dtype=object)
    both = ~(np.isnan(lon) | np.isnan(lat))
    out[both] = shapely.points(lon[both], lat[both])
    return out


def _locate(raw: RawTable, regions: list[str | None], ctx: Context,
            rows: Fields) -> np.ndarray[Any, Any]:
    src = np.full(rows.n, None, dtype=object) if raw.geometry is None else raw.geometry.copy()
    src[shapely.is_empty(src)] = None
    coords, owner = shapely.get_coordinates(src, return_index=True)
    infinite = np.bincount(owner[~np.isfinite(coords).all(axis=1)], minlength=rows.n) > 0
    for i in np.flatnonzero(infinite).tolist():
        rows.add(i, "geometry", None, "坐标不是有限的数（Infinity 或 NaN）")
    src[infinite] = None
    if {"lon", "lat"} <= rows.values.keys() and shapely.is_missing(src).all():
        # coordinate columns are used only when the file has no geometry at all: beside
        # geometries they are often another datum (Changsha: BD-09 beside GCJ-02)
        src = _points(rows, "lon", "lat")
    sx, sy = V.centroid_xy(src)
    present = np.isfinite(sx) & np.isfinite(sy)
    src[~present] = None
    wgs = geometries_to_wgs84(src, ctx.crs)
    wx, wy = V.centroid_xy(wgs)
    geographic = ctx.crs.kind != "epsg" or CRS.from_epsg(ctx.crs.epsg or 4326).is_geographic
    if ctx.crs.kind != "epsg":
        chinese = np.ones(rows.n, dtype=bool)
    else:
        chinese = np.array(V.map_cells(regions, is_chinese_region)[0], dtype=bool)
    outside = chinese & ~in_china(wx, wy)
    out_of_range = geographic & ((np.abs(sx) > 180) | (np.abs(sy) > 90))
    swapped = (out_of_range | outside) & geographic & in_china(sy, sx)
    converted = np.isfinite(wx) & np.isfinite(wy)
    where_missing = "geometry" if raw.geometry is not None else "lon"
    for i in [i for i in np.flatnonzero(~present).tolist() if i not in rows.flagged]:
        rows.add(i, where_missing, None, "经纬度为空")
    bad = ~present
    for mask, column, message in (
        (swapped, "lon", "经纬度疑似颠倒：{where} 不在中国境内，对调后在境内；"
         "请对调经度、纬度两列"),
        (out_of_range, "lon", "坐标 {where} 超出坐标系 {crs} 的取值范围"),
        (~converted, "geometry", "坐标 {where} 无法从坐标系 {crs} 换算：请核对所选坐标系"),
        (outside, "lon", "坐标 {where} 在中国境外：请核对所选坐标系（{crs}）和坐标"),
    ):
        for i in np.flatnonzero(mask & ~bad).tolist():
            where = f"({sx[i]:.6f}, {sy[i]:.6f})"
            value = None if column == "geometry" else sx[i]
            rows.add(i, column, value, message.format(where=where, crs=ctx.crs.name))
        bad |= mask
    wgs[bad] = None
    for i in np.flatnonzero(~bad & (shapely.get_type_id(wgs) != 0)).tolist():
        wgs[i] = _shape(wgs[i], i, ctx.kind, rows)
    return np.asarray(wgs, dtype=object)


def _shape(geom: Any, i: int, kind: str, rows: Fields) -> Any:
    gtype = geom.geom_type
    if gtype == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0]
    if gtype == "Point":
        return geom
    if kind in _POINT_ONLY or gtype not in ("Polygon", "MultiPolygon"):
        wanted = "点" if kind in _POINT_ONLY else "点或面"
        rows.add(i, "geometry", gtype, f"几何类型应为{wanted}，不能是 {gtype}")
        return None
    parts = shapely.get_parts(geom)
    valid = geom.is_valid
    fixed = shapely.get_parts(shapely.get_parts(geom if valid else shapely.make_valid(geom)))
    repaired = shapely.MultiPolygon([p for p in fixed if p.geom_type == "Polygon"])
    if repaired.area == 0 or min(len(set(p.exterior.coords)) for p in parts) < 3:
        rows.add(i, "geometry", gtype, "校园边界退化（面积为零或不足 3 个不同的点）：请重新勾绘")
        return None
    if valid:
        return repaired
    reason = shapely.is_valid_reason(geom)
    if len(repaired.geoms) > len(parts):
        # A self-crossing outline (a bowtie) falls apart when repaired: which of the pieces
        # is the campus is a guess, so the row is refused rather than silently reshaped.
        rows.add(i, "geometry", gtype, f"校园边界自相交（{reason}）：修复后会碎成 "
                 f"{len(repaired.geoms)} 块，无法判断哪一块是校园；请重新勾绘")
        return None
    rows.add(i, "geometry", gtype, f"校园边界无效（{reason}），已自动修复；请核对边界", "warning")
    return repaired


def _dates(rows: Fields, first: str, second: str) -> tuple[list[Any], list[Any]]:
    message = "{exc!s:.60}：请写成 YYYY-MM-DD，如 2024-09-01"
    start = rows.parsed(first, C.parse_date, message)
    end = rows.parsed(second, C.parse_date, message)
    if first in rows.values and second in rows.values:
        for i, (a, b) in enumerate(zip(start, end, strict=True)):
            if a is not None and b is not None and b < a:
                rows.add(i, second, b.isoformat(),
                         f"{C.field_label(second)} {b} 早于{C.field_label(first)} {a}")
    return start, end


def _duplicates(keys: list[list[Any]], fieldname: str, label: str, rows: Fields) -> None:
    """Flag every repeat of a key (tuple of the columns' cells) whose first cell is given."""
    first = V.first_rows(keys)
    repeats = np.flatnonzero(first != np.arange(rows.n)).tolist()
    shown = keys[0]
    for i in (i for i in repeats if shown[i] is not None):
        also = rows.numbers[int(first[i])]
        rows.add(i, fieldname, shown[i], f"{label}重复（第 {also} 行也是）")


def _schools(geoms: np.ndarray[Any, Any], record: dict[str, Any], rows: Fields) -> None:
    record["name"] = names = rows.text("name", "学校名称")
    levels = rows.parsed("levels", C.parse_levels)
    record["levels"] = [None if v is None else list(v) for v in levels]  # one list per row
    record["code"] = codes = rows.text("code")
    for i, code in enumerate(codes):
        if code is None and geoms[i] is not None and names[i] is not None:
            codes[i] = _derived_code(names[i] or "", geoms[i])
            if "code" in rows.values:
                rows.add(i, "code", None, f"没有学校标识码，已按名称和位置生成 {codes[i]}",
                         "warning")
    _duplicates([codes], "code", "学校标识码", rows)
    record["enrolment"] = pd.array(rows.parsed("enrolment", C.parse_count), dtype="Int64")
    record["opened_on"], record["closed_on"] = _dates(rows, "opened_on", "closed_on")
    record["address"] = rows.text("address")
    record["precision"] = [None if t < 0 else "point" if t == 0 else "boundary"
                           for t in shapely.get_type_id(geoms).tolist()]


def _derived_code(name: str, geom: Any) -> str:
    point = geom.representative_point()
    digest = hashlib.sha1(f"{name}|{point.x:.5f}|{point.y:.5f}".encode()).hexdigest()
    return f"gen:{digest[:16]}"


def _gates(record: dict[str, Any], rows: Fields) -> None:
    record["school_code"] = rows.text("school_code", "学校标识码")
    values = rows.get("kind")
    kinds = cast(list[tuple[str, bool]], V.map_cells(values, C.parse_gate_kind)[0])
    for i, (_, known) in enumerate(kinds):
        if not known:
            rows.add(i, "kind", values[i], "无法识别的出入口类型，按“其他”记录", "warning")
    record["kind"] = [kind for kind, _ in kinds]
    record["name"] = rows.text("name")


def _premises(geoms: np.ndarray[Any, Any], record: dict[str, Any], ctx: Context,
              rows: Fields) -> None:
    if "licence_no" in rows.values:
        record["licence_no"] = rows.text("licence_no", "许可证号")
    else:
        ids = rows.text("source_id", "用来生成许可证号的编号")
        record["licence_no"] = [None if s is None else f"{ctx.file_stem}#{s}" for s in ids]
    record["name"] = rows.text("name", "名称")
    rows.values["category"] = [t or ctx.category for t in V.texts(rows.get("category"))]
    record["category"] = rows.parsed(
        "category", lambda v: C.parse_category(v, ctx.known_categories))
    record["address"], record["operator"] = rows.text("address"), rows.text("operator")
    record["issued_on"], record["expires_on"] = _dates(rows, "issued_on", "expires_on")
    record["status"] = rows.parsed("status", C.parse_status)
    record["entrance"] = _entrances(ctx, rows)
    if ctx.max_entrance_m is not None:
        far_entrances(geoms, record["entrance"], ctx.max_entrance_m, rows)
    keys = [record["licence_no"], record["category"], record["region"]]
    _duplicates(keys, "licence_no", "同一类别、同一区划内的许可证号", rows)


def _entrances(ctx: Context, rows: Fields) -> list[Any]:
    if not ({"entrance_lon", "entrance_lat"} & rows.values.keys()):
        return [None] * rows.n
    before = set(rows.flagged)
    points = _points(rows, "entrance_lon", "entrance_lat")
    new = rows.flagged - before
    xs, ys = rows.get("entrance_lon"), rows.get("entrance_lat")
    for i in np.flatnonzero(shapely.is_missing(points)).tolist():
        if i not in new and not (C.is_blank(xs[i]) and C.is_blank(ys[i])):
            rows.add(i, "entrance_lon", xs[i], "入口须同时填写经度和纬度")
    converted = geometries_to_wgs84(points, ctx.crs)
    x, y = shapely.get_x(converted), shapely.get_y(converted)
    converted[~(np.isfinite(x) & np.isfinite(y))] = None
    return list(converted)



def _facilities(geoms: np.ndarray[Any, Any], record: dict[str, Any], rows: Fields) -> None:
    """Facilities: kind from data/facility_kinds.yaml, code (derived when blank), camera view."""
    record["kind"] = kinds = rows.parsed("kind", parse_kind)
    record["name"] = names = rows.text("name", "设施名称")
    record["school_code"] = rows.text("school_code")
    record["address"] = rows.text("address")
    record["installed_on"] = rows.parsed("installed_on", C.parse_date,
                                         "{exc!s:.60}：请写成 YYYY-MM-DD，如 2024-09-01")
    direction = rows.floats("direction_deg")
    fov = rows.floats("fov_deg")
    for i in range(rows.n):
        if np.isnan(direction[i]) != np.isnan(fov[i]):
            rows.add(i, "fov_deg" if np.isnan(fov[i]) else "direction_deg", None,
                     "监控摄像头的朝向与视场角须同时填写")
        elif not np.isnan(direction[i]):
            if kinds[i] is not None and not facility_kinds()[kinds[i]].camera:
                rows.add(i, "direction_deg", direction[i], "只有摄像头类设施才有朝向")
            elif not 0 <= direction[i] < 360:
                rows.add(i, "direction_deg", direction[i], "朝向须在 0（含）到 360 度之间")
            elif not 0 < fov[i] <= 360:
                rows.add(i, "fov_deg", fov[i], "视场角须大于 0、不超过 360 度")
    record["direction_deg"] = [None if np.isnan(d) else float(d) for d in direction]
    record["fov_deg"] = [None if np.isnan(f) else float(f) for f in fov]
    codes = rows.text("code")
    for i, code in enumerate(codes):
        if code is None and geoms[i] is not None and kinds[i] and names[i]:
            point = geoms[i]
            codes[i] = derived_facility_code(kinds[i], names[i] or "", point.x, point.y)
    record["code"] = codes
    _duplicates([codes], "code", "设施编号", rows)
