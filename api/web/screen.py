"""`/screen` 受理初筛: the form, the answer page and the printable 距离核查告知单."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import SCREEN
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.schemas.common import RowId
from api.web.data import pick_spec, store_application
from api.web.render import HERE, MODE_TEXT, VERDICT_TEXT, render, render_text, security_headers
from api.web.session import LoginDep, form_ok, to_login
from zoneguard.errors import ZoneGuardError
from zoneguard.maps import assets
from zoneguard.maps.page import spec_json
from zoneguard.maps.screening import screening_map, screening_record
from zoneguard.models import ScreeningRecord
from zoneguard.reports.record import html_to_pdf
from zoneguard.services.access.audit import audit
from zoneguard.services.access.principal import Principal
from zoneguard.services.access.web_sessions import WebLogin
from zoneguard.services.screening import screen

router = APIRouter(include_in_schema=False)
CRS_CHOICES = [("wgs84", "WGS 84（GPS、天地图）"), ("cgcs2000", "CGCS2000（国家2000）"),
               ("gcj02", "GCJ-02（高德、腾讯）"), ("bd09", "BD-09（百度）"),
               ("EPSG:4326", "EPSG:4326"), ("EPSG:4490", "EPSG:4490"),
               ("EPSG:4547", "EPSG:4547（CGCS2000 3度带 114°E）"),
               ("EPSG:4548", "EPSG:4548（CGCS2000 3度带 117°E）"),
               ("EPSG:32649", "EPSG:32649（UTM 49N）"), ("EPSG:32650", "EPSG:32650（UTM 50N）")]
Text = Annotated[str, Form(max_length=200)]


def _categories(principal: Principal, rules: RuleSetDep) -> list[str]:
    return [c for c in sorted(rules.categories()) if principal.scope.allows_category(c)]


def _form(request: Request, login: WebLogin, rules: RuleSetDep, session: SessionDep,
          values: dict[str, str], error: str | None = None, status_code: int = 200) -> Response:
    principal = login.user.principal
    spec = pick_spec(session, scope=principal.scope, settings=request.app.state.settings)
    return render(request, "screen.html", status_code=status_code, login=login,
                  categories=_categories(principal, rules), crs_choices=CRS_CHOICES,
                  modes=MODE_TEXT, values=values, error=error, pick_spec=spec_json(spec))


def _refused(request: Request, login: WebLogin) -> Response:
    return render(request, "error.html", status_code=403, login=login,
                  message=f"“{login.user.principal.role_label}”角色不能办理受理初筛")


def _number(value: str, what: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value.strip())
    except ValueError:
        raise ZoneGuardError(f"{what}不是数字：{value}") from None


@router.get("/screen", response_class=HTMLResponse)
def screen_form(request: Request, login: LoginDep, rules: RuleSetDep,
                session: SessionDep) -> Response:
    """The 受理初筛 form: category, location (typed in any CRS or clicked), application."""
    if login is None:
        return to_login(request)
    if login.user.principal.role not in SCREEN:
        return _refused(request, login)
    return _form(request, login, rules, session, {"crs": "wgs84", "mode": "new"})


@router.post("/screen", response_class=HTMLResponse)
async def screen_submit(
    request: Request, login: LoginDep, rules: RuleSetDep, session: SessionDep,
    settings: SettingsDep, csrf_token: Text = "", category: Text = "", lon: Text = "",
    lat: Text = "", crs: Text = "wgs84", entrance_lon: Text = "", entrance_lat: Text = "",
    application_no: Text = "", applicant: Text = "", mode: Text = "new",
) -> Response:
    """Screen the application and show the answer (the form again with the reason if not)."""
    if login is None:
        return to_login(request)
    principal = login.user.principal
    if principal.role not in SCREEN:
        return _refused(request, login)
    values = {"category": category, "lon": lon, "lat": lat, "crs": crs or "wgs84",
              "entrance_lon": entrance_lon, "entrance_lat": entrance_lat,
              "application_no": application_no, "applicant": applicant, "mode": mode}
    if not form_ok(login, csrf_token):
        return _form(request, login, rules, session, values, "页面已过期，请重新提交", 403)
    try:
        screening_id = await run_in_threadpool(
            _screen, session, principal, values, rules, settings)
    except ZoneGuardError as exc:
        return _form(request, login, rules, session, values, exc.detail, exc.status)
    return RedirectResponse(f"/screen/{screening_id}", status_code=303)


def _screen(session: SessionDep, principal: Principal, values: dict[str, str],
            rules: RuleSetDep, settings: SettingsDep) -> int:
    if values["category"] not in rules.categories():
        raise ZoneGuardError("请选择场所类别")
    if values["mode"] not in MODE_TEXT:
        raise ZoneGuardError("请选择受理类型（新办、延续或变更）")
    x, y = _number(values["lon"], "经度/X"), _number(values["lat"], "纬度/Y")
    if x is None or y is None:
        raise ZoneGuardError("请输入申请点位坐标，或在地图上点选")
    ex = _number(values["entrance_lon"], "入口经度")
    ey = _number(values["entrance_lat"], "入口纬度")
    if (ex is None) != (ey is None):
        raise ZoneGuardError("入口坐标需同时填写经度和纬度")
    with session.begin_nested():  # a refused input leaves nothing behind
        result = screen(session, category=values["category"], point=(x, y), crs=values["crs"],
                        region=None, entrance=None if ex is None or ey is None else (ex, ey),
                        actor=principal.actor, settings=settings, rule_set=rules,
                        scope=principal.scope)
        assert result.record_id is not None
        store_application(session, result.record_id, {
            "number": values["application_no"].strip(), "applicant": values["applicant"].strip(),
            "mode": values["mode"]})
        audit(session, actor=principal.actor, action="screen", entity="screening",
              entity_id=result.record_id,
              after={"category": result.category, "region": result.region,
                     "verdict": result.verdict.value, "location": list(result.point),
                     "rule_set_version": result.rule_set_version, "via": "workbench"})
    return result.record_id


def _record(session: SessionDep, login: WebLogin, screening_id: int) -> ScreeningRecord:
    return screening_record(session, screening_id, scope=login.user.principal.scope)


def _view(record: ScreeningRecord) -> dict[str, Any]:
    result = record.result
    conflicts = [{**c, "citation": c.get("citation") or c.get("basis")}
                 for c in result.get("conflicts", [])]
    return {"record": record, "result": result, "conflicts": conflicts,
            "verdict_text": VERDICT_TEXT.get(record.verdict, record.verdict),
            "application": record.request.get("application") or {}}


@router.get("/screen/{screening_id}", response_class=HTMLResponse)
def screen_answer(request: Request, screening_id: RowId, login: LoginDep,
                  session: SessionDep, settings: SettingsDep, rules: RuleSetDep) -> Response:
    """The answer: verdict, conflicting schools, the map with zones and measured lines."""
    if login is None:
        return to_login(request)
    record = _record(session, login, screening_id)
    spec = screening_map(session, screening_id=record.id, settings=settings, rule_set=rules)
    view = _view(record)
    spec["title"] = f"距离核查 #{record.id} · {view['verdict_text']}"
    spec["notice"] = f"结论：{view['verdict_text']}"
    assets.check_installed(settings)
    return render(request, "answer.html", login=login, spec=spec_json(spec),
                  css=assets.CSS, js=assets.JS, **view)


def _notice(request: Request, login: WebLogin, record: ScreeningRecord, *, pdf: bool) -> str:
    settings = request.app.state.settings
    css = HERE / "static" / "notice.css"
    return render_text("notice.html", login=login, printed_at=datetime.now().astimezone(),
                       remedies=settings.remedies_text, pdf=pdf,
                       inline_css=css.read_text(encoding="utf-8") if pdf else "",
                       **_view(record))


@router.get("/screen/{screening_id}/notice", response_class=HTMLResponse)
def screen_notice(request: Request, screening_id: RowId, login: LoginDep,
                  session: SessionDep) -> Response:
    """The printable 距离核查告知单 (HTML)."""
    if login is None:
        return to_login(request)
    record = _record(session, login, screening_id)
    return HTMLResponse(_notice(request, login, record, pdf=False),
                        headers=security_headers(request.app.state.settings))


@router.get("/screen/{screening_id}/notice.pdf")
async def screen_notice_pdf(request: Request, screening_id: RowId, login: LoginDep,
                            session: SessionDep) -> Response:
    """The 距离核查告知单 as PDF (printed by headless Chromium)."""
    if login is None:
        return to_login(request)
    record = _record(session, login, screening_id)
    pdf = await run_in_threadpool(html_to_pdf, _notice(request, login, record, pdf=True))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="notice-{record.id}.pdf"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
