"""`/schools/{code}` 一校一图一表 and `/reports`: what a person may see and download.

School codes may hold `/` (`osm:way/123`), so the code is a path parameter; the sheet's
download is `/schools/{code}/sheet.xlsx`, served on the session (no key in any link).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.web.render import render
from api.web.session import LoginDep, to_login
from zoneguard.errors import NotFound
from zoneguard.maps import assets
from zoneguard.maps.page import spec_json
from zoneguard.maps.school import school_map_of
from zoneguard.queries.nearby import premises_near, school_by_code
from zoneguard.reports.exports import FORMATS
from zoneguard.reports.school_sheet import PREMISES_HEADERS, premises_rows, school_sheet_bytes
from zoneguard.risk_formula import risk_formula
from zoneguard.rules import RuleSet
from zoneguard.services.access.principal import Principal
from zoneguard.services.access.web_sessions import WebLogin
from zoneguard.services.cases.risk import school_risk_by_id
from zoneguard.settings import Settings, local_today

router = APIRouter(include_in_schema=False)
_LINKS = ((re.compile(r"^/api/v1/findings/(\d+)$"), "/findings/{}"),
          (re.compile(r"^/maps/schools/(.+)$"), "/schools/{}"))
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
FINDING_COLUMN = PREMISES_HEADERS.index("问题编号")
EXPORTS = (("findings", "问题清单"), ("premises", "场所登记"), ("schools", "学校登记"))
EXPORT_FORMATS = (("xlsx", "Excel"), ("csv", "CSV"), ("geojson", "GeoJSON"),
                  ("gpkg", "GeoPackage"))


def _workbench_links(spec: dict[str, Any]) -> None:
    """Point the map's popup links at workbench pages instead of the API and bare maps."""
    for overlay in spec["overlays"]:
        for feature in overlay.get("data", {}).get("features", []):
            for link in feature["properties"].get("_links", []):
                for pattern, target in _LINKS:
                    found = pattern.match(link["href"])
                    if found:
                        link["href"] = target.format(quote(found.group(1), safe="/:"))


def _scope_args(principal: Principal) -> dict[str, Any]:
    cats = principal.scope.categories
    return {"categories": None if cats is None else sorted(cats),
            "region": principal.scope.region_prefix}


def _view(session: Session, principal: Principal, code: str, settings: Settings,
          rules: RuleSet) -> dict[str, Any]:
    school = school_by_code(session, code, scope=principal.scope)
    args, today = _scope_args(principal), local_today(settings.timezone)
    nearby = premises_near(session, school, rule_set=rules, settings=settings, on=today, **args)
    spec = school_map_of(session, school, nearby, settings=settings, rule_set=rules, on=today,
                         categories=args["categories"])
    _workbench_links(spec)
    risk = school_risk_by_id(session, school["id"], today=local_today(settings.timezone))
    return {"school": school, "spec": spec_json(spec), "headers": PREMISES_HEADERS,
            "rows": premises_rows(nearby), "finding_column": FINDING_COLUMN, "risk": risk,
            "risk_notice": risk_formula().notice}


def _missing(request: Request, login: WebLogin, code: str) -> Response:
    return render(request, "error.html", status_code=404, login=login,
                  message=f"学校 {code} 不存在或不在您的权限范围内")


@router.get("/schools/{code:path}/sheet.xlsx")
async def school_sheet(request: Request, code: str, login: LoginDep, session: SessionDep,
                       settings: SettingsDep, rules: RuleSetDep) -> Response:
    """一校一表 of the school as XLSX, within the person's scope."""
    if login is None:
        return to_login(request)
    principal = login.user.principal
    try:
        await run_in_threadpool(school_by_code, session, code, principal.scope)
    except NotFound:
        return _missing(request, login, code)
    body = await run_in_threadpool(_sheet_bytes, session, code, settings, rules, principal)
    name = _UNSAFE_NAME.sub("_", code)[:60] or "school"
    return Response(body, media_type=FORMATS["xlsx"], headers={
        "Content-Disposition": f'attachment; filename="school-{name}.xlsx"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _sheet_bytes(session: Session, code: str, settings: Settings, rules: RuleSet,
                 principal: Principal) -> bytes:
    return school_sheet_bytes(session, code=code, settings=settings, rule_set=rules,
                              **_scope_args(principal))


@router.get("/schools/{code:path}", response_class=HTMLResponse)
async def school_page(request: Request, code: str, login: LoginDep, session: SessionDep,
                      settings: SettingsDep, rules: RuleSetDep) -> Response:
    """The school's map (campus, zones, premises, measured lines) and its sheet."""
    if login is None:
        return to_login(request)
    if len(code) > 200:
        return _missing(request, login, code[:40] + "…")
    try:
        view = await run_in_threadpool(_view, session, login.user.principal, code, settings,
                                       rules)
    except NotFound:
        return _missing(request, login, code)
    assets.check_installed(settings)
    return render(request, "school.html", login=login, css=assets.CSS, js=assets.JS, **view)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, login: LoginDep) -> Response:
    """The reports and exports this person may download (on the session, within scope)."""
    if login is None:
        return to_login(request)
    exports = [(what, label, [(f"/reports/exports/{what}.{fmt}", name)
                              for fmt, name in EXPORT_FORMATS]) for what, label in EXPORTS]
    return render(request, "reports.html", login=login, exports=exports)
