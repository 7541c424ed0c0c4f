"""The workbench in headless Chromium: log in, screen by typed coordinates and by a map click."""

from __future__ import annotations

from urllib.parse import urlparse

from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.cdp import Browser
from tests.conftest import ARTIFACTS
from tests.factories import add_premises, add_school
from zoneguard.models import ScreeningRecord
from zoneguard.services.access.users import create_user

GEOD = Geod(ellps="WGS84")
CAMPUS = box(114.0, 30.5, 114.002, 30.502)
PASSWORD = "浏览器 test passphrase"
PAGE_READY = "document.readyState === 'complete'"


def _east_of_campus(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, metres)
    return lon, lat


def _set(page: Browser, field: str, value: str) -> None:
    page.evaluate(f"(function () {{ var e = document.getElementById({field!r}); "
                  f"e.focus(); e.value = {value!r}; return true; }})()")


def _login(page: Browser, served: str) -> None:
    page.goto(f"{served}/login", ready=f"{PAGE_READY} && document.getElementById('username')")
    _set(page, "username", "zhangsan")
    _set(page, "password", PASSWORD)
    page.screenshot(ARTIFACTS / "workbench_login.png")
    page.evaluate("document.getElementById('login-submit').click()")
    page.wait_for("location.pathname === '/' && document.querySelector('.wb-tiles')")


def _answer(page: Browser) -> str:
    page.wait_for("document.getElementById('verdict') && window.zgMap && window.zgMap.ready")
    verdict: str = page.evaluate("document.getElementById('verdict').textContent.trim()")
    return verdict


def _stays_home(page: Browser, served: str) -> None:
    outside = [u for u in page.requested_urls()
               if urlparse(u).scheme not in ("data", "blob") and not u.startswith(served)]
    assert outside == []
    assert page.console_errors() == []


def _setup(session: Session) -> None:
    add_school(session, "WB-001", CAMPUS, name="工作台小学", levels=("primary",),
               region="420102")
    create_user(session, username="zhangsan", password=PASSWORD, role="bureau",
                display_name="张三", categories=["internet_cafe", "tobacco"])


def test_screen_by_typed_coordinates(served: str, session: Session, page: Browser) -> None:
    _setup(session)
    _login(page, served)
    page.goto(f"{served}/screen", ready="window.zgPick && window.zgPick.ready")
    lon, lat = _east_of_campus(120.0)
    page.evaluate("document.getElementById('category').value = 'internet_cafe'")
    _set(page, "lon", f"{lon:.8f}")
    _set(page, "lat", f"{lat:.8f}")
    _set(page, "application_no", "WB-浏览器-1")
    page.evaluate("document.getElementById('screen-submit').click()")
    assert _answer(page) == "不符合距离要求"
    assert page.evaluate("window.zgMap.counts.lines") == 1
    rows = page.evaluate("document.querySelectorAll('#conflicts tbody tr').length")
    assert rows == 1
    page.screenshot(ARTIFACTS / "workbench_answer.png")
    page.evaluate("document.getElementById('notice-link').click()")
    page.wait_for("document.getElementById('notice-officer')")
    assert page.evaluate("document.getElementById('notice-officer').textContent") == "张三"
    page.screenshot(ARTIFACTS / "workbench_notice.png")
    _stays_home(page, served)
    record = session.scalars(select(ScreeningRecord)).one()
    assert record.actor == "user:张三(zhangsan)"


def test_screen_by_clicking_the_map(served: str, session: Session, page: Browser) -> None:
    _setup(session)
    _login(page, served)
    page.goto(f"{served}/screen", ready="window.zgPick && window.zgPick.ready")
    page.evaluate("document.getElementById('category').value = 'internet_cafe'")
    lon, lat = _east_of_campus(60.0)
    x, y = page.evaluate(
        f"(function () {{ var m = window.zgPick.map; var p = m.latLngToContainerPoint([{lat}, "
        f"{lon}]); var r = m.getContainer().getBoundingClientRect(); "
        "return [r.left + p.x, r.top + p.y]; })()")
    page.click(x, y)
    page.wait_for("window.zgPick.picked")
    picked = page.evaluate("[document.getElementById('lon').value, "
                           "document.getElementById('lat').value, "
                           "document.getElementById('crs').value]")
    # One screen pixel at the fitted zoom is a few metres: the click lands within 10 m.
    _, _, off_m = GEOD.inv(lon, lat, float(picked[0]), float(picked[1]))
    assert off_m < 10 and picked[2] == "wgs84"
    page.screenshot(ARTIFACTS / "workbench_pick.png")
    page.evaluate("document.getElementById('screen-submit').click()")
    assert _answer(page) == "不符合距离要求"
    _stays_home(page, served)


def test_far_point_has_no_conflict(served: str, session: Session, page: Browser) -> None:
    _setup(session)
    _login(page, served)
    page.goto(f"{served}/screen", ready="window.zgPick && window.zgPick.ready")
    page.evaluate("document.getElementById('category').value = 'tobacco'")
    lon, lat = _east_of_campus(400.0)
    _set(page, "lon", f"{lon:.8f}")
    _set(page, "lat", f"{lat:.8f}")
    page.evaluate("document.getElementById('screen-submit').click()")
    assert _answer(page) == "未发现距离冲突（仅距离初筛）"
    _stays_home(page, served)


def test_screen_by_address_search(served: str, session: Session, page: Browser) -> None:
    _setup(session)
    lon, lat = _east_of_campus(80.0)
    add_premises(session, "internet_cafe", lon, lat, name="星空网咖", address="工作台路8号")
    _login(page, served)
    page.goto(f"{served}/screen", ready="window.zgPick && window.zgPick.ready")
    page.evaluate("document.getElementById('category').value = 'internet_cafe'")
    _set(page, "address", "工作台路")
    page.evaluate("document.getElementById('address-search').click()")
    page.wait_for("document.querySelector('#address-results button')")
    label = page.evaluate("document.querySelector('#address-results button').textContent")
    assert label.startswith("[场所] 星空网咖")
    page.evaluate("document.querySelector('#address-results button').click()")
    page.wait_for("window.zgPick.picked")
    assert page.evaluate("document.getElementById('lon').value") == f"{lon:.7f}"
    page.screenshot(ARTIFACTS / "workbench_address.png")
    page.evaluate("document.getElementById('screen-submit').click()")
    assert _answer(page) == "不符合距离要求"
    _stays_home(page, served)
