"""Exports of findings and registries (schools, premises) to CSV, XLSX, GeoJSON, GeoPackage.

Geometries are WGS 84 (EPSG:4326). CSV and XLSX carry them as WKT (and lon/lat for points);
GeoJSON and GeoPackage are written by pyogrio. Text is UTF-8 (CSV with a BOM for Excel).

XLSX is for people: Chinese headers and labels, region names, Beijing times as real
datetimes. CSV, GeoJSON and GeoPackage keep the stable English keys, codes and UTC ISO times
unless `labels="zh"` asks for the people's version.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.cells import csv_text
from zoneguard.errors import ValidationError
from zoneguard.labels import choices
from zoneguard.reports.human import TIME_COLUMNS, check_labels, header, human_value
from zoneguard.reports.xlsx import table, workbook_bytes

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}
_FILTER = """
(CAST(:region AS text) IS NULL OR starts_with({region}, CAST(:region AS text)))
AND (CAST(:categories AS text[]) IS NULL OR {category} = ANY(CAST(:categories AS text[])))
"""
_QUERIES = {
    "findings": """
SELECT f.id, s.code AS school_code, s.name AS school_name, p.id AS premises_id,
       p.licence_no, p.name AS premises_name, p.category, NULLIF(p.region, '') AS region,
       f.rule_id, f.metric, f.distance_m, f.threshold_m, f.verdict,
       array_to_string(ARRAY(SELECT jsonb_array_elements_text(f.reasons)), '; ') AS reasons,
       f.state, f.assignee, f.deadline, f.rule_set_version, f.first_seen,
       zg_finding_seen(f.state, f.last_seen, f.last_scan_id, f.premises_id) AS last_seen,
       f.resolved_at, ST_AsText(f.line) AS line_wkt, ST_AsBinary(p.location) AS geom
FROM finding f JOIN premises p ON p.id = f.premises_id JOIN school s ON s.id = f.school_id
WHERE """ + _FILTER.format(region="p.region", category="p.category") + " ORDER BY f.id",
    "schools": """
SELECT s.id, s.code, s.name, array_to_string(s.levels, ',') AS levels, s.enrolment, s.region,
       s.address, s.precision, s.opened_on, s.closed_on, s.source, s.updated_at,
       ST_AsBinary(COALESCE(s.boundary, s.location)) AS geom
FROM school s
WHERE CAST(:region AS text) IS NULL OR starts_with(s.region, CAST(:region AS text))
ORDER BY s.id""",
    "premises": """
SELECT p.id, p.category, p.licence_no, p.name, p.address, p.operator,
       NULLIF(p.region, '') AS region, p.status, p.issued_on, p.expires_on, p.source,
       p.source_crs, ST_X(p.entrance) AS entrance_lon, ST_Y(p.entrance) AS entrance_lat,
       p.updated_at, ST_AsBinary(p.location) AS geom
FROM premises p
WHERE """ + _FILTER.format(region="p.region", category="p.category") + " ORDER BY p.id",
}
WHAT = tuple(_QUERIES)


def frame(session: Session, what: str, *, region: str | None = None,
          categories: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """The rows of `what` (findings, schools, premises) as a GeoDataFrame in EPSG:4326."""
    _check_what(what)
    result = session.execute(text(_QUERIES[what]), {
        "region": region, "categories": None if categories is None else list(categories)})
    rows = [dict(r) for r in result.mappings()]
    columns = [c for c in result.keys() if c != "geom"]
    geoms = shapely.from_wkb([bytes(r.pop("geom")) for r in rows]) if rows else []
    data = pd.DataFrame(rows, columns=columns, dtype=object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))


def _iso(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


def _for_machines(gdf: gpd.GeoDataFrame, what: str, labels: str) -> gpd.GeoDataFrame:
    """Dates and times as ISO text (UTC); with labels='zh' Chinese keys, labels, Beijing time."""
    out = gdf.copy()
    for column in [c for c in out.columns if c != "geometry"]:
        if labels == "zh":
            out[column] = [_iso(human_value(column, v)) for v in out[column]]
        else:
            out[column] = [_iso(v) for v in out[column]]
    if labels == "zh":
        out = out.rename(columns={c: header(c, what) for c in out.columns if c != "geometry"})
    return out


def _tabular(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    table_ = pd.DataFrame(gdf.drop(columns="geometry"))
    points = [g if g is not None and g.geom_type == "Point" else None for g in gdf.geometry]
    table_["lon"] = [None if g is None else g.x for g in points]
    table_["lat"] = [None if g is None else g.y for g in points]
    table_["wkt"] = [None if g is None else g.wkt for g in gdf.geometry]
    return table_


SHEET_NAMES = {"findings": "问题清单", "schools": "学校名录", "premises": "场所名录"}


def _xlsx(gdf: gpd.GeoDataFrame, what: str) -> bytes:
    rows = _tabular(gdf)
    columns = list(rows.columns)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAMES.get(what, what)
    body = ([human_value(c, v) for c, v in zip(columns, row, strict=True)]
            for row in rows.itertuples(index=False, name=None))
    last = table(ws, [header(c, what) for c in columns], body,
                 widths=[max(10, min(28, 2 * len(header(c, what)))) for c in columns])
    for col, name in enumerate(columns, 1):
        if name in TIME_COLUMNS:
            for row in ws.iter_rows(min_row=2, max_row=last, min_col=col, max_col=col):
                row[0].number_format = "yyyy-mm-dd hh:mm:ss"
        elif name in DATE_COLUMNS:
            for row in ws.iter_rows(min_row=2, max_row=last, min_col=col, max_col=col):
                row[0].number_format = "yyyy-mm-dd"
    return workbook_bytes(wb)


DATE_COLUMNS = frozenset({"deadline", "opened_on", "closed_on", "issued_on", "expires_on"})


def check_request(what: str, fmt: str, labels: str = "en") -> None:
    """Refuse an unknown layer, format or label language before anything is read."""
    _check_what(what)
    _check_format(fmt)
    check_labels(labels)


def _check_what(what: str) -> None:
    if what not in WHAT:
        known = choices((name, SHEET_NAMES[name]) for name in WHAT)
        raise ValidationError(f"不能导出「{what}」：可选 {known}")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"不支持的导出格式「{fmt}」：可选 {'、'.join(FORMATS)}")


def encode(gdf: gpd.GeoDataFrame, what: str, fmt: str, labels: str = "en") -> bytes:
    """A frame as bytes in `fmt` (csv, xlsx, geojson, gpkg; `what` names the layer).

    XLSX always has Chinese headers and labels; the others only with `labels="zh"`.
    """
    _check_format(fmt)
    check_labels(labels)
    if fmt == "xlsx":
        return _xlsx(gdf, what)
    machine = _for_machines(gdf, what, labels)
    if fmt == "csv":
        rows = _tabular(machine)
        return csv_text(list(rows.columns), rows.itertuples(index=False, name=None),
                        lineterminator="\n").encode("utf-8-sig")
    with tempfile.TemporaryDirectory(prefix="zoneguard-export-") as tmp:
        path = Path(tmp) / f"{what}.{fmt}"
        machine.to_file(path, driver="GPKG" if fmt == "gpkg" else "GeoJSON", layer=what,
                        engine="pyogrio")
        return path.read_bytes()


def export_bytes(session: Session, what: str, fmt: str, labels: str = "en",
                 **filters: Any) -> bytes:
    """One export (findings, schools, premises) as bytes in `fmt`."""
    check_request(what, fmt, labels)
    return encode(frame(session, what, **filters), what, fmt, labels)


def write_export(session: Session, what: str, fmt: str, out: Path, labels: str = "en",
                 **filters: Any) -> int:
    """Write one export to `out`; return the number of rows written."""
    check_request(what, fmt, labels)
    gdf = frame(session, what, **filters)
    out.write_bytes(encode(gdf, what, fmt, labels))
    return len(gdf)
