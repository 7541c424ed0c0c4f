"""Row-level validation: a RawTable becomes the canonical EPSG:4326 frame plus problems."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.crs import CrsSpec, geometries_to_wgs84
from zoneguard.imports import columns as C
from zoneguard.imports.readers import RawTable
from zoneguard.imports.report import FileUnusable, RowProblem, Severity, jsonable

#: Rough extent of China (lon_min, lat_min, lon_max, lat_max), degrees.
CHINA_BBOX = (73.0, 3.8, 135.1, 53.6)
_REQUIRED = {"schools": ("name", "levels"), "gates": ("school_code",), "premises": ("name",)}
_POINT_ONLY = {"gates", "premises"}


@dataclass(frozen=True)
class Context:
    """What the caller said about the file."""

    kind: str
    crs: CrsSpec
    region: str | None
    category: str | None
    known_categories: set[str] | None
    file_stem: str


def is_chinese_region(code: str | None) -> bool:
    """Return True for a GB/T 2260 code of a Chinese province-level area (11-82)."""
    return bool(code and C.REGION_CODE.fullmatch(code) and 11 <= int(code[:2]) <= 82)


def in_china(lon: Any, lat: Any) -> Any:
    """Return whether lon/lat (degrees, arrays) fall inside the rough China extent."""
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


class _Rows:
    """The table's values by field, and the problems found, in the user's row numbers."""

    def __init__(self, raw: RawTable, cols: dict[str, str]) -> None:
        self.numbers, self.cols, self.problems = raw.source_rows, cols, list(raw.problems)
        self.values = {f: raw.frame[c].tolist() for f, c in cols.items()}
        self.n = len(raw.frame)
        self.flagged: set[int] = set()

    def get(self, fieldname: str) -> list[Any]:
        return self.values.get(fieldname, [None] * self.n)

    def add(self, i: int, fieldname: str, value: Any, text: str,
            severity: Severity = "error") -> None:
        shown = C.as_text(value)
        if severity == "error":
            self.flagged.add(i)
        self.problems.append(RowProblem(self.numbers[i], self.cols.get(fieldname, fieldname),
                                        shown[:200] if shown else None, text, severity))

    def parse(self, i: int, fieldname: str, value: Any, parser: Callable[[Any], Any],
              message: str = "{exc}") -> Any:
        try:
            return parser(value)
        except ValueError as exc:
            self.add(i, fieldname, value, message.format(exc=exc))
            return None

    def parsed(self, fieldname: str, parser: Callable[[Any], Any],
               message: str = "{exc}") -> list[Any]:
        return [self.parse(i, fieldname, v, parser, message)
                for i, v in enumerate(self.get(fieldname))]

    def text(self, fieldname: str, missing: str | None = None) -> list[str | None]:
        out = [C.as_text(v) for v in self.get(fieldname)]
        for i, text in enumerate(out):
            if text is None and missing is not None:
                self.add(i, fieldname, None, f"missing {missing}")
        return out


def check_required(raw: RawTable, cols: dict[str, str], ctx: Context) -> None:
    """Raise FileUnusable naming every required field the file lacks."""
    missing = [f for f in _REQUIRED[ctx.kind] if f not in cols]
    if raw.geometry is None and not {"lon", "lat"} <= cols.keys():
        missing += [f for f in ("lon", "lat") if f not in cols]
    if ctx.kind == "premises":
        if "licence_no" not in cols and "source_id" not in cols:
            missing.append("licence_no")
        if "category" not in cols and ctx.category is None:
            missing.append("category (or pass --category)")
    if missing:
        table = C.aliases(ctx.kind)
        wanted = "; ".join(f"{m} ({'/'.join(table.get(m.split()[0], ())[:4])})" for m in missing)
        raise FileUnusable(
            f"missing required columns: {wanted}. The file has {list(raw.frame.columns)}; "
            "rename a column or map it with --column 'COLUMN=field'"
        )


def validate(raw: RawTable, cols: dict[str, str], ctx: Context) -> tuple[gpd.GeoDataFrame,
                                                                           list[RowProblem]]:
    """Validate every row and return the canonical frame (EPSG:4326) and the problems."""
    check_required(raw, cols, ctx)
    rows = _Rows(raw, cols)
    regions = rows.parsed("region", lambda v: C.parse_region(v, ctx.region))
    geoms = _locate(raw, regions, ctx, rows)
    record: dict[str, Any] = {"region": regions}
    if ctx.kind == "schools":
        _schools(geoms, record, rows)
    elif ctx.kind == "gates":
        _gates(record, rows)
    else:
        _premises(record, ctx, rows)
    data = {c: record[c] for c in C.COLUMNS[ctx.kind]}
    data["attributes"] = raw.attributes or [
        {str(k): jsonable(v) for k, v in r.items()} for r in raw.frame.to_dict("records")
    ]
    data["source_row"] = raw.source_rows
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")
    return frame, sorted(rows.problems, key=lambda p: p.row)


def _points(rows: _Rows, x: str, y: str, only: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out = np.full(rows.n, None, dtype=object)
    xs, ys = rows.get(x), rows.get(y)
    for i in (int(k) for k in np.flatnonzero(only)):
        lon = rows.parse(i, x, xs[i], C.parse_number, "not a number")
        lat = rows.parse(i, y, ys[i], C.parse_number, "not a number")
        if lon is not None and lat is not None:
            out[i] = shapely.Point(lon, lat)
    return out


def _locate(raw: RawTable, regions: list[str | None], ctx: Context,
            rows: _Rows) -> np.ndarray[Any, Any]:
    src = np.full(rows.n, None, dtype=object) if raw.geometry is None else raw.geometry.copy()
    src[shapely.is_empty(src)] = None
    if {"lon", "lat"} <= rows.values.keys() and shapely.is_missing(src).all():
        # coordinate columns are used only when the file has no geometry at all: beside
        # geometries they are often another datum (Changsha: BD-09 beside GCJ-02)
        src = _points(rows, "lon", "lat", np.ones(rows.n, dtype=bool))
    sx, sy = shapely.get_x(shapely.centroid(src)), shapely.get_y(shapely.centroid(src))
    present = np.isfinite(sx) & np.isfinite(sy)
    src[~present] = None
    wgs = geometries_to_wgs84(src, ctx.crs)
    wx, wy = shapely.get_x(shapely.centroid(wgs)), shapely.get_y(shapely.centroid(wgs))
    geographic = ctx.crs.kind != "epsg" or CRS.from_epsg(ctx.crs.epsg or 4326).is_geographic
    swapped = in_china(sy, sx)
    for i in range(rows.n):
        where = f"({sx[i]:.6f}, {sy[i]:.6f})"
        out_of_range = geographic and (abs(sx[i]) > 180 or abs(sy[i]) > 90)
        outside = (ctx.crs.kind != "epsg" or is_chinese_region(regions[i])) and not in_china(
            wx[i], wy[i])
        if not present[i]:
            if i not in rows.flagged:
                column = "geometry" if raw.geometry is not None else "lon"
                rows.add(i, column, None, "missing coordinates (经纬度为空)")
        elif (out_of_range or outside) and geographic and swapped[i]:
            rows.add(i, "lon", sx[i], f"latitude and longitude look swapped (经纬度颠倒): {where} "
                     "is not in China but the swapped pair is; swap the columns")
        elif out_of_range:
            rows.add(i, "lon", sx[i], f"coordinates {where} out of range for {ctx.crs.name}")
        elif not (np.isfinite(wx[i]) and np.isfinite(wy[i])):
            rows.add(i, "geometry", None, f"coordinates {where} cannot be converted from "
                     f"{ctx.crs.name}: check --crs")
        elif outside:
            rows.add(i, "lon", sx[i], f"coordinates {where} lie outside China (境外坐标): "
                     f"check --crs ({ctx.crs.name}) and the coordinates")
        else:
            wgs[i] = _shape(wgs[i], i, ctx.kind, rows)
            continue
        wgs[i] = None
    return np.asarray(wgs, dtype=object)


def _shape(geom: Any, i: int, kind: str, rows: _Rows) -> Any:
    gtype = geom.geom_type
    if gtype == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0]
    if gtype == "Point":
        return geom
    if kind in _POINT_ONLY or gtype not in ("Polygon", "MultiPolygon"):
        wanted = "a point" if kind in _POINT_ONLY else "a point or a polygon"
        rows.add(i, "geometry", gtype, f"geometry must be {wanted}, not {gtype}")
        return None
    parts = shapely.get_parts(geom)
    valid = geom.is_valid
    fixed = shapely.get_parts(shapely.get_parts(geom if valid else shapely.make_valid(geom)))
    repaired = shapely.MultiPolygon([p for p in fixed if p.geom_type == "Polygon"])
    if repaired.area == 0 or min(len(set(p.exterior.coords)) for p in parts) < 3:
        rows.add(i, "geometry", gtype, "degenerate polygon (zero area or fewer than 3 distinct "
                 "points): draw the campus outline again")
        return None
    if valid:
        return repaired
    reason = shapely.is_valid_reason(geom)
    rows.add(i, "geometry", gtype, f"invalid polygon ({reason}) repaired with make_valid into "
             f"{len(repaired.geoms)} part(s); check the outline", "warning")
    return repaired


def _dates(rows: _Rows, first: str, second: str) -> tuple[list[Any], list[Any]]:
    message = "bad date {exc!s:.40} (use YYYY-MM-DD)"
    start = rows.parsed(first, C.parse_date, message)
    end = rows.parsed(second, C.parse_date, message)
    for i, (a, b) in enumerate(zip(start, end, strict=True)):
        if a is not None and b is not None and b < a:
            rows.add(i, second, b.isoformat(), f"{second} {b} is before {first} {a}")
    return start, end


def _duplicates(keys: list[Any], fieldname: str, label: str, rows: _Rows) -> None:
    seen: dict[Any, int] = {}
    for i, key in enumerate(keys):
        shown = key[0] if isinstance(key, tuple) else key
        if shown is None:
            continue
        if key in seen:
            rows.add(i, fieldname, shown, f"duplicate {label} (also on row {seen[key]})")
        else:
            seen[key] = rows.numbers[i]


def _schools(geoms: np.ndarray[Any, Any], record: dict[str, Any], rows: _Rows) -> None:
    record["name"] = names = rows.text("name", "school name (学校名称)")
    record["levels"] = rows.parsed("levels", C.parse_levels)
    record["code"] = codes = rows.text("code")
    for i, code in enumerate(codes):
        if code is None and geoms[i] is not None and names[i] is not None:
            codes[i] = _derived_code(names[i] or "", geoms[i])
            if "code" in rows.values:
                rows.add(i, "code", None, f"no school code; derived {codes[i]}", "warning")
    _duplicates(codes, "code", "school code", rows)
    record["enrolment"] = pd.array(rows.parsed("enrolment", C.parse_count), dtype="Int64")
    record["opened_on"], record["closed_on"] = _dates(rows, "opened_on", "closed_on")
    record["address"] = rows.text("address")
    record["precision"] = [None if g is None else "point" if g.geom_type == "Point"
                           else "boundary" for g in geoms]


def _derived_code(name: str, geom: Any) -> str:
    point = geom.representative_point()
    digest = hashlib.sha1(f"{name}|{point.x:.5f}|{point.y:.5f}".encode()).hexdigest()
    return f"gen:{digest[:16]}"


def _gates(record: dict[str, Any], rows: _Rows) -> None:
    record["school_code"] = rows.text("school_code", "school code (学校标识码)")
    record["kind"] = []
    for i, value in enumerate(rows.get("kind")):
        kind, known = C.parse_gate_kind(value)
        if not known:
            rows.add(i, "kind", value, "unknown gate kind; recorded as other", "warning")
        record["kind"].append(kind)
    record["name"] = rows.text("name")


def _premises(record: dict[str, Any], ctx: Context, rows: _Rows) -> None:
    if "licence_no" in rows.values:
        record["licence_no"] = rows.text("licence_no", "licence number (许可证号)")
    else:
        ids = rows.text("source_id", "id to derive the licence number from")
        record["licence_no"] = [None if s is None else f"{ctx.file_stem}#{s}" for s in ids]
    record["name"] = rows.text("name", "name (名称)")
    rows.values["category"] = [C.as_text(v) or ctx.category for v in rows.get("category")]
    record["category"] = rows.parsed(
        "category", lambda v: C.parse_category(v, ctx.known_categories))
    record["address"], record["operator"] = rows.text("address"), rows.text("operator")
    record["issued_on"], record["expires_on"] = _dates(rows, "issued_on", "expires_on")
    record["status"] = rows.parsed("status", C.parse_status)
    record["entrance"] = _entrances(ctx, rows)
    keys = list(zip(record["licence_no"], record["category"], record["region"], strict=True))
    _duplicates(keys, "licence_no", "licence number in this category and region", rows)


def _entrances(ctx: Context, rows: _Rows) -> list[Any]:
    if not ({"entrance_lon", "entrance_lat"} & rows.values.keys()):
        return [None] * rows.n
    before = set(rows.flagged)
    points = _points(rows, "entrance_lon", "entrance_lat", np.ones(rows.n, dtype=bool))
    pairs = zip(rows.get("entrance_lon"), rows.get("entrance_lat"), strict=True)
    for i, pair in enumerate(pairs):
        if points[i] is None and i not in rows.flagged - before and not all(map(C.is_blank, pair)):
            rows.add(i, "entrance_lon", pair[0], "entrance needs both longitude and latitude")
    converted = geometries_to_wgs84(points, ctx.crs)
    return [p if p is not None and np.isfinite([p.x, p.y]).all() else None for p in converted]
