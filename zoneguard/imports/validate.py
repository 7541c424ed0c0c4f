"""Row-level validation: a RawTable becomes the canonical EPSG:4326 frame plus problems."""

from __future__ import annotations

import hashlib
import re
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
REGION_CODE = re.compile(r"\d{6}(?:\d{3}){0,2}")
COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": ("code", "name", "levels", "enrolment", "region", "opened_on", "closed_on",
                "address", "precision"),
    "gates": ("school_code", "kind", "name"),
    "premises": ("licence_no", "name", "category", "address", "operator", "region",
                 "issued_on", "expires_on", "status", "entrance"),
}
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
    return bool(code and REGION_CODE.fullmatch(code) and 11 <= int(code[:2]) <= 82)


def in_china(lon: Any, lat: Any) -> Any:
    """Return whether lon/lat (degrees, arrays) fall inside the rough China extent."""
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


class _Rows:
    """Collects problems against the user's row numbers and column names."""

    def __init__(self, raw: RawTable, cols: dict[str, str]) -> None:
        self.numbers, self.cols, self.problems = raw.source_rows, cols, list(raw.problems)
        self.flagged: set[int] = set()

    def add(self, i: int, fieldname: str, value: Any, text: str,
            severity: Severity = "error") -> None:
        shown = C.as_text(value)
        if severity == "error":
            self.flagged.add(i)
        self.problems.append(RowProblem(self.numbers[i], self.cols.get(fieldname, fieldname),
                                        shown[:200] if shown else None, text, severity))

    def parse(self, i: int, fieldname: str, value: Any, parser: Callable[[Any], Any],
              message: str) -> Any:
        try:
            return parser(value)
        except ValueError as exc:
            self.add(i, fieldname, value, message.format(exc=exc))
            return None


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
    n = len(raw.frame)
    values = {f: raw.frame[c].tolist() for f, c in cols.items()}
    regions = [rows.parse(i, "region", v, lambda v: _region(v, ctx.region),
                          "{exc}") for i, v in enumerate(values.get("region", [None] * n))]
    geoms = _locate(raw, values, regions, ctx, rows)
    record: dict[str, list[Any]] = {"region": regions}
    if ctx.kind == "schools":
        _schools(values, geoms, record, ctx, rows)
    elif ctx.kind == "gates":
        _gates(values, record, rows)
    else:
        _premises(values, record, ctx, rows)
    data = {c: record[c] for c in COLUMNS[ctx.kind]}
    if ctx.kind == "schools":
        data["enrolment"] = pd.array(data["enrolment"], dtype="Int64")
    attributes = raw.attributes or [
        {str(k): jsonable(v) for k, v in r.items()} for r in raw.frame.to_dict("records")
    ]
    data["attributes"] = attributes
    data["source_row"] = raw.source_rows
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")
    return frame, rows.problems


def _region(value: Any, default: str | None) -> str | None:
    text = C.as_text(value) or default
    if text is not None and not REGION_CODE.fullmatch(text):
        raise ValueError(f"region must be a GB/T 2260 code such as 310104, not {text!r} "
                         "(district names such as 区县 stay in the attributes)")
    return text


def _points(values: dict[str, list[Any]], x: str, y: str, rows: _Rows,
            only: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out = np.full(len(only), None, dtype=object)
    xs, ys = values.get(x, [None] * len(only)), values.get(y, [None] * len(only))
    for i in np.flatnonzero(only):
        lon = rows.parse(i, x, xs[i], C.parse_number, "not a number")
        lat = rows.parse(i, y, ys[i], C.parse_number, "not a number")
        if lon is not None and lat is not None:
            out[i] = shapely.Point(lon, lat)
    return out


def _locate(raw: RawTable, values: dict[str, list[Any]], regions: list[str | None],
            ctx: Context, rows: _Rows) -> np.ndarray[Any, Any]:
    n = len(raw.frame)
    src = np.full(n, None, dtype=object) if raw.geometry is None else raw.geometry.copy()
    if {"lon", "lat"} <= values.keys():
        missing = shapely.is_missing(src) | shapely.is_empty(src)
        src[missing] = _points(values, "lon", "lat", rows, missing)[missing]
    sx, sy = shapely.get_x(shapely.centroid(src)), shapely.get_y(shapely.centroid(src))
    present = np.isfinite(sx) & np.isfinite(sy)
    src[~present] = None
    wgs = geometries_to_wgs84(src, ctx.crs)
    wx, wy = shapely.get_x(shapely.centroid(wgs)), shapely.get_y(shapely.centroid(wgs))
    geographic = ctx.crs.kind != "epsg" or CRS.from_epsg(ctx.crs.epsg or 4326).is_geographic
    swapped = in_china(sy, sx)
    for i in range(n):
        if not present[i]:
            if i not in rows.flagged:
                column = "geometry" if raw.geometry is not None else "lon"
                rows.add(i, column, None, "missing coordinates (经纬度为空)")
            continue
        out_of_range = geographic and (abs(sx[i]) > 180 or abs(sy[i]) > 90)
        outside = (ctx.crs.kind != "epsg" or is_chinese_region(regions[i])) and not in_china(
            wx[i], wy[i])
        where = f"({sx[i]:.6f}, {sy[i]:.6f})"
        if (out_of_range or outside) and geographic and swapped[i]:
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
    distinct = [len(set(p.exterior.coords)) for p in parts]
    if geom.area == 0 or min(distinct, default=0) < 3:
        rows.add(i, "geometry", gtype, "degenerate polygon (zero area or fewer than 3 distinct "
                 "points): draw the campus outline again")
        return None
    if geom.is_valid:
        return shapely.MultiPolygon(parts)
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    polygons = [p for p in shapely.get_parts(shapely.get_parts(fixed)) if p.geom_type == "Polygon"]
    repaired = shapely.MultiPolygon(polygons)
    if repaired.area == 0:
        rows.add(i, "geometry", gtype, f"invalid polygon ({reason}) cannot be repaired")
        return None
    rows.add(i, "geometry", gtype, f"invalid polygon ({reason}) repaired with make_valid "
             f"into {len(polygons)} part(s); check the outline", "warning")
    return repaired


def _text(values: dict[str, list[Any]], fieldname: str, n: int) -> list[str | None]:
    return [C.as_text(v) for v in values.get(fieldname, [None] * n)]


def _required_text(values: dict[str, list[Any]], fieldname: str, n: int, rows: _Rows,
                   label: str) -> list[str | None]:
    out = _text(values, fieldname, n)
    for i, text in enumerate(out):
        if text is None:
            rows.add(i, fieldname, None, f"missing {label}")
    return out


def _dates(values: dict[str, list[Any]], fieldname: str, n: int, rows: _Rows) -> list[Any]:
    return [rows.parse(i, fieldname, v, C.parse_date, "bad date {exc!s:.40} (use YYYY-MM-DD)")
            for i, v in enumerate(values.get(fieldname, [None] * n))]


def _ordered(first: list[Any], second: list[Any], fieldname: str, rows: _Rows) -> None:
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        if a is not None and b is not None and b < a:
            rows.add(i, fieldname, b.isoformat(), f"{fieldname} {b} is before {a}")


def _duplicates(keys: list[Any], fieldname: str, label: str, rows: _Rows) -> None:
    seen: dict[Any, int] = {}
    for i, key in enumerate(keys):
        if key is None or (isinstance(key, tuple) and key[0] is None):
            continue
        if key in seen:
            shown = key[0] if isinstance(key, tuple) else key
            rows.add(i, fieldname, shown, f"duplicate {label} (also on row {seen[key]})")
        else:
            seen[key] = rows.numbers[i]


def _schools(values: dict[str, list[Any]], geoms: np.ndarray[Any, Any],
             record: dict[str, list[Any]], ctx: Context, rows: _Rows) -> None:
    n = len(geoms)
    names = _required_text(values, "name", n, rows, "school name (学校名称)")
    record["name"] = names
    record["levels"] = [rows.parse(i, "levels", v, C.parse_levels, "{exc}")
                        for i, v in enumerate(values["levels"])]
    codes = _text(values, "code", n)
    for i, code in enumerate(codes):
        if code is None and geoms[i] is not None and names[i] is not None:
            codes[i] = _derived_code(names[i] or "", geoms[i])
            if "code" in values:
                rows.add(i, "code", None, f"no school code; derived {codes[i]}", "warning")
    record["code"] = codes
    _duplicates(codes, "code", "school code", rows)
    enrolment = [rows.parse(i, "enrolment", v, _count, "{exc}")
                 for i, v in enumerate(values.get("enrolment", [None] * n))]
    record["enrolment"] = enrolment
    record["opened_on"] = _dates(values, "opened_on", n, rows)
    record["closed_on"] = _dates(values, "closed_on", n, rows)
    _ordered(record["opened_on"], record["closed_on"], "closed_on", rows)
    record["address"] = _text(values, "address", n)
    record["precision"] = [None if g is None else "point" if g.geom_type == "Point"
                           else "boundary" for g in geoms]


def _derived_code(name: str, geom: Any) -> str:
    point = geom.representative_point()
    digest = hashlib.sha1(f"{name}|{point.x:.5f}|{point.y:.5f}".encode()).hexdigest()
    return f"gen:{digest[:16]}"


def _count(value: Any) -> int | None:
    number = C.parse_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"not a whole number: {value}")
    if number < 0:
        raise ValueError(f"negative enrolment {int(number)}")
    return int(number)


def _gates(values: dict[str, list[Any]], record: dict[str, list[Any]], rows: _Rows) -> None:
    n = len(rows.numbers)
    record["school_code"] = _required_text(values, "school_code", n, rows, "school code")
    kinds = []
    for i, v in enumerate(values.get("kind", [None] * n)):
        kind, known = C.parse_gate_kind(v)
        if not known:
            rows.add(i, "kind", v, "unknown gate kind; recorded as other", "warning")
        kinds.append(kind)
    record["kind"] = kinds
    record["name"] = _text(values, "name", n)


def _premises(values: dict[str, list[Any]], record: dict[str, list[Any]], ctx: Context,
              rows: _Rows) -> None:
    n = len(rows.numbers)
    if "licence_no" in values:
        record["licence_no"] = _required_text(values, "licence_no", n, rows, "licence number")
    else:
        ids = _required_text(values, "source_id", n, rows, "id to derive the licence number")
        record["licence_no"] = [None if s is None else f"{ctx.file_stem}#{s}" for s in ids]
    record["name"] = _required_text(values, "name", n, rows, "name (名称)")
    cats = [C.as_text(v) or ctx.category for v in values.get("category", [None] * n)]
    record["category"] = [rows.parse(i, "category", v,
                                     lambda v: C.parse_category(v, ctx.known_categories), "{exc}")
                          for i, v in enumerate(cats)]
    record["address"] = _text(values, "address", n)
    record["operator"] = _text(values, "operator", n)
    record["issued_on"] = _dates(values, "issued_on", n, rows)
    record["expires_on"] = _dates(values, "expires_on", n, rows)
    _ordered(record["issued_on"], record["expires_on"], "expires_on", rows)
    record["status"] = [rows.parse(i, "status", v, C.parse_status, "{exc}")
                        for i, v in enumerate(values.get("status", [None] * n))]
    record["entrance"] = _entrances(values, n, ctx, rows)
    keys = list(zip(record["licence_no"], record["category"], record["region"], strict=True))
    _duplicates(keys, "licence_no", "licence number in this category and region", rows)


def _entrances(values: dict[str, list[Any]], n: int, ctx: Context, rows: _Rows) -> list[Any]:
    if not ({"entrance_lon", "entrance_lat"} & values.keys()):
        return [None] * n
    points = _points(values, "entrance_lon", "entrance_lat", rows, np.ones(n, dtype=bool))
    converted = geometries_to_wgs84(points, ctx.crs)
    out: list[Any] = []
    for i, (src, point) in enumerate(zip(points, converted, strict=True)):
        pair = (values.get("entrance_lon", [None] * n)[i], values.get("entrance_lat", [None] * n)[i])
        if src is None and any(not C.is_blank(v) for v in pair):
            rows.add(i, "entrance_lon", pair[0], "entrance needs both longitude and latitude")
        ok = point is not None and not point.is_empty and np.isfinite([point.x, point.y]).all()
        out.append(point if ok else None)
    return out
