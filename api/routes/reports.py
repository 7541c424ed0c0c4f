"""Reports: 一校一表, 周边场所距离核查表, summary, period statistics, exports, records.

`/reports/schools/{code}/joint.xlsx` (一校一表), `/reports/schools/{code}.xlsx` (距离核查表),
`/reports/summary.xlsx`, `/reports/exports/{what}.{fmt}`,
`/reports/screenings/{id}/record.{html|pdf}`, `/reports/findings/{id}/record.{html|pdf}`,
`/api/v1/reports/period` (JSON), `/reports/period.xlsx`, `/reports/period.pdf`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

import api.convertors  # noqa: F401 - registers the {code:code} convertor
from api.auth import Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.routes.maps import Categories
from api.schemas.common import RegionCode, RowId
from zoneguard.maps.screening import screening_record
from zoneguard.queries.nearby import school_by_code
from zoneguard.reports.coverage_sheet import coverage_bytes
from zoneguard.reports.exports import FORMATS, export_bytes
from zoneguard.reports.joint_sheet import joint_sheet_bytes
from zoneguard.reports.period_html import period_pdf
from zoneguard.reports.period_report import PeriodReport, build_report, report_json
from zoneguard.reports.period_xlsx import period_bytes
from zoneguard.reports.periods import resolve_period
from zoneguard.reports.printing import cached_pdf
from zoneguard.reports.record import (
    finding_record_html,
    finding_scope,
    screening_record_html,
)
from zoneguard.reports.school_sheet import DISTANCE_SHEET, school_sheet_bytes
from zoneguard.reports.summary import summary_bytes
from zoneguard.settings import local_today

router = APIRouter(prefix="/reports", tags=["reports"])
api_router = APIRouter(prefix="/reports", tags=["reports"])  # mounted under /api/v1
XLSX = FORMATS["xlsx"]
Code = Annotated[str, Path(max_length=40)]
_UNSAFE_IN_NAME = re.compile(r'[^A-Za-z0-9._-]')


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266/5987)."""
    fallback = _UNSAFE_IN_NAME.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file(body: bytes, media_type: str, name: str, chinese: str | None = None) -> Response:
    """A download: the ASCII-safe `name`, and the Chinese name browsers save when given."""
    disposition = content_disposition(name)
    if chinese is not None:  # RFC 6266: browsers save the Chinese name, others the ASCII one
        fallback = _UNSAFE_IN_NAME.sub("_", name)
        disposition = (f"attachment; filename=\"{fallback}\"; "
                       f"filename*=UTF-8''{quote(chinese, safe='')}")
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


# The joint sheet first: a code may hold '/', so `{code}.xlsx` would also match it.
@router.get("/schools/{code:code}/joint.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "一校一表"}})
def joint_sheet(code: Code, session: SessionDep, settings: SettingsDep, key: Reader,
                category: Categories = None,
                year: Annotated[int | None, Query(ge=1900, le=2999)] = None) -> Response:
    """一校一表: the school's annual joint check sheet (食品、交通、文化、治安、安全设施)."""
    school_by_code(session, code, scope=key.scope)
    region, categories = key.scope.narrow(None, category)
    year = year or local_today(settings.timezone).year
    body = joint_sheet_bytes(session, code=code, year=year, region=region,
                             categories=categories)
    return _file(body, XLSX, f"joint-{code}-{year}.xlsx", f"一校一表-{code}-{year}.xlsx")


@router.get("/schools/{code:code}.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "周边场所距离核查表"}})
def school_sheet(code: Code, session: SessionDep, settings: SettingsDep, rules: RuleSetDep,
                 key: Reader, category: Categories = None, on: date | None = None) -> Response:
    """周边场所距离核查表: the school and every premises within reach, judged, with case state."""
    school_by_code(session, code, scope=key.scope)
    region, categories = key.scope.narrow(None, category)
    body = school_sheet_bytes(session, code=code, settings=settings, rule_set=rules, on=on,
                              categories=categories, region=region)
    return _file(body, XLSX, f"school-{code}.xlsx", f"{DISTANCE_SHEET}-{code}.xlsx")


@router.get("/summary.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "District summary"}})
def summary(session: SessionDep, key: Reader, settings: SettingsDep,
            region: RegionCode | None = None,
            category: Categories = None,
            last_scans: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    """Counts by district × category × verdict × state, overdue findings, scan trend."""
    region, categories = key.scope.narrow(region, category)
    body = summary_bytes(session, region=region, categories=categories, last_scans=last_scans,
                         on=local_today(settings.timezone))
    return _file(body, XLSX, f"summary-{region or 'all'}.xlsx")


@router.get("/coverage.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Facility coverage"}})
def coverage_sheet(session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
                   region: RegionCode | None = None) -> Response:
    """设施覆盖率: per district and requirement against its target, and each school's gaps."""
    region, _ = key.scope.narrow(region, None)
    body = coverage_bytes(session, rules=rules, on=local_today(settings.timezone),
                          region=region)
    return _file(body, XLSX, f"coverage-{region or 'all'}.xlsx",
                 f"设施覆盖率-{region or '全部'}.xlsx")


@router.get("/exports/{what}.{fmt}", response_class=Response,
            responses={200: {"content": {m: {} for m in FORMATS.values()},
                             "description": "An export file"}})
def export(what: Literal["findings", "schools", "premises"],
           fmt: Literal["csv", "xlsx", "geojson", "gpkg"], session: SessionDep, key: Reader,
           region: RegionCode | None = None, category: Categories = None,
           labels: Annotated[Literal["en", "zh"], Query(
               description="CSV/GeoJSON/GPKG: en keeps keys and codes, zh gives Chinese "
               "headers and labels (XLSX is always Chinese)")] = "en") -> Response:
    """Findings or a registry as CSV, XLSX, GeoJSON or GeoPackage (EPSG:4326)."""
    region, categories = key.scope.narrow(region, category)
    if what == "schools":
        categories = None
    body = export_bytes(session, what, fmt, labels=labels, region=region,
                        categories=categories)
    return _file(body, FORMATS[fmt], f"{what}.{fmt}")


PeriodCode = Annotated[str | None, Query(
    max_length=10, description="2026-11 (month), 2026Q4 (quarter) or 2026 (year)")]
From = Annotated[date | None, Query(alias="from", description="First day (Beijing date)")]
To = Annotated[date | None, Query(description="Last day (Beijing date)")]
By = Annotated[Literal["district", "street", "unit", "school", "category"],
               Query(description="Grouping of the JSON groups")]


def _period_report(session: SessionDep, settings: SettingsDep, key: Reader,
                   period: PeriodCode = None, start: From = None, to: To = None,
                   region: RegionCode | None = None,
                   category: Categories = None) -> PeriodReport:
    """The period report in the caller's scope (region prefix and categories)."""
    region, categories = key.scope.narrow(region, category)
    return build_report(session, resolve_period(period, start, to), region=region,
                        categories=categories, timezone=settings.timezone)


PeriodDep = Annotated[PeriodReport, Depends(_period_report)]


@api_router.get("/period")
def period_figures(report: PeriodDep, by: By = "district") -> dict[str, Any]:
    """Period statistics as JSON: totals, 环比, groups, six-period trend (Beijing dates)."""
    return report_json(report, by)


@router.get("/period.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Period report workbook"}})
def period_workbook(report: PeriodDep) -> Response:
    """Period statistics workbook: 汇总, groupings, charts, 汇总表 form, definitions."""
    return _file(period_bytes(report), XLSX, f"period-{_name(report)}.xlsx")


@router.get("/period.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}},
                             "description": "Period report (PDF)"}})
async def period_document(report: PeriodDep) -> Response:
    """Period statistics printed to PDF."""
    body = await run_in_threadpool(period_pdf, report)
    return _file(body, "application/pdf", f"period-{_name(report)}.pdf")


def _name(report: PeriodReport) -> str:
    return report.period.code.replace("~", "_") + (f"-{report.region}" if report.region else "")


async def _record(html: str, fmt: str, name: str) -> Response:
    if fmt == "pdf":
        pdf = await run_in_threadpool(cached_pdf, html)
        return _file(pdf, "application/pdf", name + ".pdf")
    return HTMLResponse(html)


@router.get("/screenings/{screening_id}/record.{fmt}", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}},
                             "description": "The measurement record"}})
async def screening_record_file(screening_id: RowId, fmt: Literal["html", "pdf"],
                                session: SessionDep, key: Reader) -> Response:
    """Measurement record of a screening: points, distances, rules, versions, sketch."""
    await run_in_threadpool(screening_record, session, screening_id, key.scope)
    html = await run_in_threadpool(screening_record_html, session, screening_id=screening_id)
    return await _record(html, fmt, f"screening-{screening_id}")


@router.get("/findings/{finding_id}/record.{fmt}", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}},
                             "description": "The measurement record"}})
async def finding_record_file(finding_id: RowId, fmt: Literal["html", "pdf"],
                              session: SessionDep, rules: RuleSetDep, key: Reader) -> Response:
    """Measurement record of a finding as its last scan measured it."""
    await run_in_threadpool(finding_scope, session, finding_id, key.scope)
    html = await run_in_threadpool(finding_record_html, session, finding_id=finding_id,
                                   rule_set=rules)
    return await _record(html, fmt, f"finding-{finding_id}")
