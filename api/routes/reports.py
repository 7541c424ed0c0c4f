"""Reports: 一校一表, district summary, exports, and measurement records (HTML or PDF).

`/reports/schools/{code}.xlsx`, `/reports/summary.xlsx`, `/reports/exports/{what}.{fmt}`,
`/reports/screenings/{id}/record.{html|pdf}`, `/reports/findings/{id}/record.{html|pdf}`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

import api.convertors  # noqa: F401 - registers the {code:code} convertor
from api.auth import Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.routes.maps import Categories, scoped
from api.schemas.common import RegionCode, RowId
from zoneguard.errors import NotFound
from zoneguard.maps.screening import screening_record
from zoneguard.reports.exports import FORMATS, export_bytes
from zoneguard.reports.nearby import school_by_code
from zoneguard.reports.printing import cached_pdf
from zoneguard.reports.record import (
    finding_record_html,
    finding_scope,
    screening_record_html,
)
from zoneguard.reports.school_sheet import school_sheet_bytes
from zoneguard.reports.summary import summary_bytes

router = APIRouter(prefix="/reports", tags=["reports"])
XLSX = FORMATS["xlsx"]
Code = Annotated[str, Path(max_length=40)]
_UNSAFE_IN_NAME = re.compile(r'[^A-Za-z0-9._-]')


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266/5987)."""
    fallback = _UNSAFE_IN_NAME.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file(body: bytes, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": content_disposition(name)})


@router.get("/schools/{code:code}.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "一校一表"}})
def school_sheet(code: Code, session: SessionDep, settings: SettingsDep, rules: RuleSetDep,
                 key: Reader, category: Categories = None, on: date | None = None) -> Response:
    """一校一表: the school and every premises within reach, judged, with case state."""
    school = school_by_code(session, code)
    if not key.scope.allows_region(school["region"]):
        raise NotFound(f"no school with code {code}")
    region, categories = scoped(key, None, category)
    body = school_sheet_bytes(session, code=code, settings=settings, rule_set=rules, on=on,
                              categories=categories, region=region)
    return _file(body, XLSX, f"school-{code}.xlsx")


@router.get("/summary.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "District summary"}})
def summary(session: SessionDep, key: Reader, region: RegionCode | None = None,
            category: Categories = None,
            last_scans: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    """Counts by district × category × verdict × state, overdue findings, scan trend."""
    region, categories = scoped(key, region, category)
    body = summary_bytes(session, region=region, categories=categories, last_scans=last_scans)
    return _file(body, XLSX, f"summary-{region or 'all'}.xlsx")


@router.get("/exports/{what}.{fmt}", response_class=Response,
            responses={200: {"content": {m: {} for m in FORMATS.values()},
                             "description": "An export file"}})
def export(what: Literal["findings", "schools", "premises"],
           fmt: Literal["csv", "xlsx", "geojson", "gpkg"], session: SessionDep, key: Reader,
           region: RegionCode | None = None, category: Categories = None) -> Response:
    """Findings or a registry as CSV, XLSX, GeoJSON or GeoPackage (EPSG:4326)."""
    region, categories = scoped(key, region, category)
    if what == "schools":
        categories = None
    body = export_bytes(session, what, fmt, region=region, categories=categories)
    return _file(body, FORMATS[fmt], f"{what}.{fmt}")


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
    record = await run_in_threadpool(screening_record, session, screening_id)
    if not key.scope.allows(category=record.category, region=record.region):
        raise NotFound(f"no screening {screening_id}")
    html = await run_in_threadpool(screening_record_html, session, screening_id=screening_id)
    return await _record(html, fmt, f"screening-{screening_id}")


@router.get("/findings/{finding_id}/record.{fmt}", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}},
                             "description": "The measurement record"}})
async def finding_record_file(finding_id: RowId, fmt: Literal["html", "pdf"],
                              session: SessionDep, rules: RuleSetDep, key: Reader) -> Response:
    """Measurement record of a finding as its last scan measured it."""
    category, region = await run_in_threadpool(finding_scope, session, finding_id)
    if not key.scope.allows(category=category, region=region):
        raise NotFound(f"no finding {finding_id}")
    html = await run_in_threadpool(finding_record_html, session, finding_id=finding_id,
                                   rule_set=rules)
    return await _record(html, fmt, f"finding-{finding_id}")
