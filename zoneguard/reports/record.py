"""Measurement record (测距记录) of a screening or a finding: printable HTML and PDF.

It holds what is needed to reproduce the measurement later: both points in WGS 84, the
metric and distance, an independent recomputation (pyproj.Geod), the rule with its legal
basis, the rule-set and data versions, and the time; with a sketch of the measured line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.errors import NotFound, ZoneGuardError
from zoneguard.labels import DISCLAIMER
from zoneguard.maps import style
from zoneguard.maps.data import ZoneSpec, zone_geometries
from zoneguard.maps.screening import screening_record
from zoneguard.reports.case_files import evidence_section
from zoneguard.reports.svgmap import sketch
from zoneguard.rules import RuleSet
from zoneguard.scope import Scope

_GEOD = Geod(ellps="WGS84")
_SCHOOLS = """
SELECT id, code, name, precision, updated_at,
       ST_AsGeoJSON(COALESCE(boundary, location), 7) AS geometry
FROM school WHERE id = ANY(CAST(:ids AS bigint[]))
"""
_FINDING = """
SELECT f.id, f.rule_id, f.metric, f.distance_m, f.threshold_m, f.verdict, f.reasons, f.state,
       f.assignee, f.deadline, f.rule_set_version, f.first_seen,
       zg_finding_seen(f.state, f.last_seen, f.last_scan_id, f.premises_id) AS last_seen,
       ST_AsGeoJSON(f.line, 9) AS line, f.school_id,
       p.name AS premises_name, p.licence_no, p.category, NULLIF(p.region, '') AS region,
       p.address, sc.id AS scan_id, sc.started_at AS scan_at, sc.data_versions,
       r.basis, r.jurisdiction
FROM finding f JOIN premises p ON p.id = f.premises_id
LEFT JOIN scan sc ON sc.id = f.last_scan_id
LEFT JOIN rule_set rs ON rs.version = f.rule_set_version
LEFT JOIN rule r ON r.rule_set_id = rs.id AND r.rule_id = f.rule_id
WHERE f.id = :id
"""
CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
       margin: 24px; color: #111; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 20px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border: 1px solid #bbb; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #eef3f8; width: 160px; font-weight: normal; color: #333; }
pre { background: #f4f4f4; padding: 6px; white-space: pre-wrap; font-size: 11px; }
.verdict-prohibited { color: #b00; font-weight: bold; } .verdict-review { color: #c60; }
section { page-break-inside: avoid; }
"""


def _version() -> str:
    try:
        return version("zoneguard")
    except PackageNotFoundError:
        return "unknown"


class PdfUnavailable(ZoneGuardError):
    """No headless Chromium to print the record with."""

    status = 503
    type = "urn:zoneguard:problem:pdf-unavailable"
    title = "PDF printing unavailable"


@dataclass
class Measurement:
    """One measured pair: the premises (or applied-for) point and one school under one rule."""

    subject: str
    school: dict[str, Any]
    rule_id: str
    metric: str
    distance_m: float | None
    threshold_m: float | None
    verdict: str
    line: list[list[float]] | None
    basis: str | None = None
    jurisdiction: str | None = None
    reasons: list[str] = field(default_factory=list)
    zone: dict[str, Any] | None = None


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{escape(_fmt(v))}</td></tr>" for k, v in pairs)


def _point(p: list[float] | None) -> str:
    return "—" if p is None else f"经度 {p[0]:.7f}，纬度 {p[1]:.7f}（WGS 84）"


def _labels(m: Measurement) -> list[tuple[list[float], str, str]]:
    if not m.line:
        return []
    start, end = m.line[0], m.line[-1]
    # Put each label on the far side of its point, so the two never overlap.
    right = start[0] >= end[0]
    return [(start, m.subject, "start" if right else "end"),
            (end, m.school["name"], "end" if right else "start")]


def _section(n: int, m: Measurement) -> str:
    recheck = None
    if m.line:
        _, _, recheck = _GEOD.inv(m.line[0][0], m.line[0][1], m.line[-1][0], m.line[-1][1])
    verdict = m.verdict if m.verdict in style.VERDICT_LABELS else "none"
    pairs = [("学校", f"{m.school['name']}（{m.school['code']}）"),
             ("位置精度", "校园边界" if m.school["precision"] == "boundary" else "仅有点位"),
             ("测量方式", style.metric_label(m.metric)),
             ("测得距离", style.distance_text(m.distance_m)),
             ("规定距离", style.distance_text(m.threshold_m)),
             ("说明", "；".join(m.reasons)), ("规则", m.rule_id),
             ("适用区划", m.jurisdiction),
             ("法律依据", clean_basis(m.basis)),
             ("场所测量点", _point(m.line[0] if m.line else None)),
             ("学校最近点/校门", _point(m.line[-1] if m.line else None)),
             ("独立复算", "—" if recheck is None else
              f"{recheck:.2f} 米（pyproj.Geod WGS 84 椭球反算两测量点）"),
             ("学校数据更新时间", m.school.get("updated_at"))]
    sql = "" if not m.line else (
        "SELECT ST_Distance(geography(ST_SetSRID(ST_MakePoint("
        f"{m.line[0][0]:.9f}, {m.line[0][1]:.9f}), 4326)),\n"
        f"       geography(ST_SetSRID(ST_MakePoint({m.line[-1][0]:.9f}, {m.line[-1][1]:.9f}), "
        "4326)), true);  -- 米，WGS 84 椭球面")
    drawing = sketch(line=m.line, campus=m.school.get("geometry"), zone=m.zone,
                     labels=_labels(m),
                     caption=f"{m.subject} 至 {m.school['name']} 测距示意")
    return (f"<section><h2>{n}. {escape(m.subject)} → {escape(m.school['name'])}："
            f'<span class="verdict-{escape(verdict)}">{escape(style.verdict_label(verdict))}'
            f"</span></h2><table>{_rows(pairs)}</table>{drawing}"
            f"<p>复现：在 PostGIS 中执行（或以任一 WGS 84 测地线工具计算两点距离）</p>"
            f"<pre>{escape(sql) or '无测量线'}</pre></section>")


def render(title: str, header: list[tuple[str, Any]], measurements: list[Measurement],
           versions: list[tuple[str, Any]], extra: str = "") -> str:
    """The printable record page (`extra`: trusted HTML sections after the measurements)."""
    body = ("".join(_section(n, m) for n, m in enumerate(measurements, 1)) or
            "<p>周边规定距离内无受保护学校，无测量线。</p>") + extra
    versions = [*versions, ("记录生成时间", datetime.now().astimezone().replace(microsecond=0)),
                ("ZoneGuard 版本", _version())]
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1><table>{_rows(header)}</table>{body}"
            f"<h2>版本与复现信息</h2><table>{_rows(versions)}</table>"
            "<p>距离均为 WGS 84 椭球面测地线距离，判定采用距离谓词（含边界值），"
            "示意图为局部近似投影，仅供阅读。</p></body></html>\n")


def _schools(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(text(_SCHOOLS), {"ids": ids}).mappings()
    return {r["id"]: {**r, "geometry": json.loads(r["geometry"])} for r in rows}


def _zone(session: Session, school_id: int, threshold: float | None) -> dict[str, Any] | None:
    if not threshold:
        return None
    rows = zone_geometries(session, [ZoneSpec(school_id, float(threshold), ())])
    return rows[0]["geometry"] if rows else None


_MARKERS = re.compile(r"\s*\[[CSU](?:[^\]]*)\]")


def clean_basis(basis: str | None) -> str | None:
    """A stored legal basis without the rule authors' confidence labels (older rule sets)."""
    return None if basis is None else _MARKERS.sub("", basis)


def screening_record_html(session: Session, *, screening_id: int) -> str:
    """The record of a stored screening: every conflicting school's measurement."""
    record = screening_record(session, screening_id)
    result = record.result
    conflicts = result.get("conflicts", [])
    schools = _schools(session, [c["school"]["id"] for c in conflicts])
    measurements = [Measurement(
        "申请点位", schools.get(c["school"]["id"], {**c["school"], "geometry": None}),
        c["rule_id"], c["metric"], c["distance_m"], c["threshold_m"], c["verdict"],
        c.get("path") or c["line"], c.get("basis"), c.get("area") or c.get("jurisdiction"),
        c.get("reasons", []),
        _zone(session, c["school"]["id"], c["threshold_m"])) for c in conflicts]
    req = record.request
    loc = result["location"]
    header = [("筛查编号", record.id), ("类别", style.category_label(record.category)),
              ("结论", style.verdict_label(record.verdict)),
              ("行政区划", regions.labelled(record.region)),
              ("申请位置（输入）", f"{req['location']['x']}, {req['location']['y']}"
                               f"（{req['location']['crs']}）"),
              ("申请位置（WGS 84）", _point([loc["lon"], loc["lat"]])),
              ("判定日期", result.get("on")), ("筛查时间", record.created_at),
              ("经办", record.actor), ("理由", "；".join(result.get("reasons", []))),
              ("说明", DISCLAIMER)]
    versions = [("规则集版本", record.rule_set_version),
                ("数据版本", "学校数据以各学校“数据更新时间”为准（见上）")]
    return render(f"选址筛查测距记录 #{record.id}", header, measurements, versions)


def finding_scope(session: Session, finding_id: int,
                  scope: Scope | None = None) -> tuple[str, str | None]:
    """Category and region of a finding's premises (NotFound if none or outside `scope`)."""
    row = session.execute(text(
        "SELECT p.category, NULLIF(p.region, '') FROM finding f JOIN premises p "
        "ON p.id = f.premises_id WHERE f.id = :id"), {"id": finding_id}).first()
    if row is None or (scope is not None and not scope.allows(category=row[0], region=row[1])):
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"问题 {finding_id} 不存在{outside}")
    return str(row[0]), row[1]


def finding_record_html(session: Session, *, finding_id: int,
                        rule_set: RuleSet | None = None) -> str:
    """The record of one finding's measurement as its last scan stored it.

    The legal basis comes from the stored rule set the finding names; when that was never
    stored, from `rule_set` (the rules in force), and the record says so.
    """
    row = session.execute(text(_FINDING), {"id": finding_id}).mappings().first()
    if row is None:
        raise NotFound(f"问题 {finding_id} 不存在")
    school = _schools(session, [row["school_id"]])[row["school_id"]]
    line = json.loads(row["line"])["coordinates"] if row["line"] else None
    basis, jurisdiction = row["basis"], row["jurisdiction"]
    current = next((r for r in rule_set.rules if r.id == row["rule_id"]), None) \
        if rule_set is not None and basis is None else None
    if current is not None:
        basis = f"{current.basis}（取自现行规则集 {rule_set.version if rule_set else ''}）"
        jurisdiction = current.jurisdiction
    if rule_set is not None and jurisdiction is not None:
        jurisdiction = rule_set.area_name(jurisdiction)
    measurement = Measurement(
        row["premises_name"], school, row["rule_id"], row["metric"], row["distance_m"],
        row["threshold_m"], row["verdict"], line, basis, jurisdiction,
        list(row["reasons"] or []), _zone(session, row["school_id"], row["threshold_m"]))
    header = [("问题编号", row["id"]), ("场所", row["premises_name"]),
              ("许可证号", row["licence_no"]), ("类别", style.category_label(row["category"])),
              ("地址", row["address"]), ("行政区划", regions.labelled(row["region"])),
              ("处置状态", style.state_label(row["state"])), ("责任人", row["assignee"]),
              ("整改期限", row["deadline"]), ("首次发现", row["first_seen"]),
              ("最近确认", row["last_seen"])]
    versions = [("规则集版本", row["rule_set_version"]), ("扫描编号", row["scan_id"]),
                ("扫描时间", row["scan_at"]),
                ("数据版本", json.dumps(row["data_versions"], ensure_ascii=False)
                 if row["data_versions"] else None)]
    return render(f"问题测距记录 #{row['id']}", header, [measurement], versions,
                  evidence_section(session, finding_id))


def chromium_path() -> str:
    """The headless Chromium used for PDF printing (PdfUnavailable when missing)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable("本机未安装 Chromium 浏览器，无法生成 PDF：请系统管理员安装"
                         "（Debian：apt-get install chromium）")


def html_to_pdf(html: str, *, timeout_s: float = 60.0) -> bytes:
    """Print a self-contained HTML page to PDF with headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="zoneguard-pdf-") as tmp:
        page, pdf = Path(tmp) / "record.html", Path(tmp) / "record.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            subprocess.run(
                [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run", "--disable-extensions",
                 f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
                 f"--print-to-pdf={pdf}", page.as_uri()],
                check=True, capture_output=True, timeout=timeout_s)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium 未能打印该记录，PDF 生成失败：{exc}") from None
        if not pdf.is_file():
            raise PdfUnavailable("Chromium 没有生成 PDF 文件")
        return pdf.read_bytes()
