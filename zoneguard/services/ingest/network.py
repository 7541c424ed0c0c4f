"""Importing the walking network into the pgRouting tables, and reporting what is there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.crs import CrsSpec, geometries_to_wgs84, parse_crs
from spatial.errors import CrsError
from spatial.network import Network, NetworkSource, build_network, lines_source, read_osm
from zoneguard import regions
from zoneguard.errors import Conflict, CrsProblem, ImportProblem
from zoneguard.imports import CRS_FORMS, readers
from zoneguard.imports.intake import check_region, file_sha256
from zoneguard.imports.report import FileUnusable
from zoneguard.models import ImportRecord

_SAME_REGION = "region IS NOT DISTINCT FROM :region"
# The English words of `spatial.network.exclusion` reasons; the OSM tags stay as written.
_REASON_WORDS = (("no highway tag", "无 highway 标签"), (" without foot access", "（不允许步行）"),
                 (" without foot=yes|designated", "（未标 foot=yes|designated）"),
                 (" with sidewalk=no", "（sidewalk=no）"))


def _excluded(report: dict[str, Any]) -> str:
    """The excluded ways of a network report for people: reason and count, or 无."""
    parts = []
    for reason, count in (report.get("excluded") or {}).items():
        words = str(reason)
        for english, chinese in _REASON_WORDS:
            words = words.replace(english, chinese)
        parts.append(f"{words} {count} 条")
    return "、".join(parts) or "无"


@dataclass
class NetworkImport:
    """What one network import wrote."""

    import_id: int
    region: str | None
    file_name: str
    source_crs: str
    replaced_edges: int
    report: dict[str, Any]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"import_id": self.import_id, "region": self.region, "file": self.file_name,
                "source_crs": self.source_crs, "replaced_edges": self.replaced_edges,
                **self.report, "warnings": self.warnings}


def import_network(
    session: Session,
    *,
    path: Path,
    region: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    layer: str | None = None,
    actor: str = "cli",
    max_bytes: int | None = None,
) -> NetworkImport:
    """Import a street network file (OSM or survey lines) for `region`, all or nothing."""
    try:
        check_region(region)
    except FileUnusable as exc:
        raise ImportProblem(exc.detail) from None
    if not path.is_file():
        raise ImportProblem(f"文件不存在：{path}")
    source, source_crs = _read(path, crs, layer, max_bytes)
    network = build_network(source)
    if not network.edges:
        raise ImportProblem(f"{path.name} 中没有可步行的道路（已排除："
                            f"{_excluded(network.report)}）", report=network.report)
    existing = session.execute(text(f"SELECT count(*) FROM network_edge WHERE {_SAME_REGION}"),
                               {"region": region}).scalar_one()
    if existing and not replace:
        where = f"区划 {regions.labelled(region)} " if region else "未指定区划的范围"
        raise Conflict(f"{where}已有 {existing} 条边的步行路网；如要替换，请加 --replace")
    if existing:
        session.execute(text(f"DELETE FROM network_edge WHERE {_SAME_REGION}"), {"region": region})
        session.execute(text(f"DELETE FROM network_vertex WHERE {_SAME_REGION}"),
                        {"region": region})
    record = ImportRecord(kind="network", file_name=path.name, file_sha256=file_sha256(path),
                          source_crs=source_crs, actor=actor,
                          rows_read=network.report["ways_walkable"] + sum(source.excluded.values()),
                          inserted=len(network.edges), report={})
    session.add(record)
    session.flush()
    _write(session, network, region=region, import_id=record.id)
    record.report = {**network.report, "region": region, "replaced_edges": existing,
                     "warnings": source.warnings}
    session.flush()
    return NetworkImport(record.id, region, path.name, source_crs, int(existing),
                         network.report, source.warnings)


def network_status(session: Session) -> list[dict[str, Any]]:
    """Per region: edges, vertices, length (km), blocking points, the last import."""
    rows = session.execute(text("""
        SELECT e.region, e.edges, e.length_km, v.vertices, v.blocked,
               i.file_name, i.created_at
        FROM (SELECT region, count(*) AS edges, round((sum(length_m) / 1000)::numeric, 3)
                     AS length_km, max(import_id) AS import_id
              FROM network_edge GROUP BY region) e
        JOIN (SELECT region, count(*) AS vertices, count(barrier) AS blocked
              FROM network_vertex GROUP BY region) v
          ON v.region IS NOT DISTINCT FROM e.region
        LEFT JOIN import i ON i.id = e.import_id
        ORDER BY e.region NULLS FIRST
    """)).all()
    return [{"region": r.region, "edges": r.edges, "vertices": r.vertices,
             "length_km": float(r.length_km), "blocking_points": r.blocked,
             "file": r.file_name, "imported_at": r.created_at} for r in rows]


def _read(path: Path, crs: str | None, layer: str | None,
          max_bytes: int | None) -> tuple[NetworkSource, str]:
    try:
        fmt = readers.detect_format(path)
        if fmt == "osm":
            if crs is not None and _parse(crs).name != "EPSG:4326":
                raise ImportProblem("OpenStreetMap 数据一律是 WGS 84（EPSG:4326），"
                                    f"不适用坐标系 {crs}")
            return read_osm(path), "EPSG:4326"
        if fmt in ("csv", "xlsx"):
            raise ImportProblem("路网文件应为线数据：请用 OSM、GeoJSON、GeoPackage 或 Shapefile")
        raw = readers.read_vector(path, fmt, layer=layer, max_bytes=max_bytes)
    except FileUnusable as exc:
        raise ImportProblem(f"{path.name}：{exc}") from None
    except RuntimeError as exc:  # osmium refuses a broken file
        raise ImportProblem(f"{path.name}：无法读取该 OSM 文件：{exc}") from None
    spec, warnings = _resolve_crs(crs, raw.declared_crs)
    if raw.geometry is None:
        raise ImportProblem(f"{path.name} 没有几何列")
    kinds = {g.geom_type for g in raw.geometry if g is not None}
    if not kinds <= {"LineString", "MultiLineString"}:
        raise ImportProblem(f"{path.name} 应为线数据，不能是 {'、'.join(sorted(kinds))}")
    geoms = geometries_to_wgs84(np.asarray(raw.geometry, dtype=object), spec)
    bad = int(np.count_nonzero(~shapely.is_valid_input(geoms) | shapely.is_empty(geoms)))
    coords = shapely.get_coordinates(geoms)
    if bad or not np.isfinite(coords).all() or (np.abs(coords[:, 1]) > 90).any():
        raise CrsProblem(f"{path.name}：坐标无法从 {spec.name} 换算成有效的 WGS 84 位置；"
                         "请核对坐标系")
    attrs = [{str(k): v for k, v in row.items() if v is not None}
             for row in raw.frame.to_dict(orient="records")]
    source = lines_source(geoms, attrs)
    source.warnings.extend(raw.warnings + warnings)
    return source, spec.name


def _parse(crs: str) -> CrsSpec:
    try:
        return parse_crs(crs)
    except CrsError as exc:
        raise CrsProblem(f"坐标系（--crs）：{exc}") from None


def _resolve_crs(crs: str | None, declared: str | None) -> tuple[CrsSpec, list[str]]:
    if crs is None:
        said = f"文件声明的坐标系是 {declared}，请用 --crs 确认" if declared else \
            "文件没有写明线数据用的是哪个坐标系，请用 --crs 指定"
        raise CrsProblem(f"{said}（{CRS_FORMS}）。系统不做猜测")
    spec = _parse(crs)
    if declared is not None and declared != spec.name:
        return spec, [f"文件声明的坐标系是 {declared}，但所选坐标系是 {spec.name}；"
                      f"按 {spec.name} 换算"]
    return spec, []


def _write(session: Session, network: Network, *, region: str | None, import_id: int) -> None:
    """Bulk-load vertices and edges with COPY inside the session's transaction."""
    ids = session.execute(
        text("SELECT nextval(pg_get_serial_sequence('network_vertex', 'id')) "
             "FROM generate_series(1, :n)"), {"n": len(network.vertices)}).scalars().all()
    points = shapely.points([(v.lon, v.lat) for v in network.vertices])
    point_hex = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    lines = shapely.linestrings(
        np.concatenate([e.coords for e in network.edges]),
        indices=np.repeat(np.arange(len(network.edges)), [len(e.coords) for e in network.edges]))
    line_hex = shapely.to_wkb(shapely.set_srid(lines, 4326), hex=True, include_srid=True)
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy("COPY network_vertex (id, geom, osm_node_id, barrier, region, import_id) "
                      "FROM STDIN") as copy:
            for vid, hexwkb, v in zip(ids, point_hex, network.vertices, strict=True):
                copy.write_row((vid, hexwkb, v.osm_node_id, v.barrier, region, import_id))
        with cur.copy("COPY network_edge (source, target, cost, reverse_cost, length_m, geom, "
                      "tags, way_ref, region, import_id) FROM STDIN") as copy:
            for e, hexwkb in zip(network.edges, line_hex, strict=True):
                copy.write_row((ids[e.source], ids[e.target], e.length_m, e.length_m,
                                e.length_m, hexwkb, json.dumps(e.tags, ensure_ascii=False),
                                e.way_ref, region, import_id))
    session.execute(text("ANALYZE network_edge"))
    session.execute(text("ANALYZE network_vertex"))

