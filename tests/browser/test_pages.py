"""School, screening and permitted-area maps, and a standalone file, in headless Chromium."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

from tests.conftest import ARTIFACTS
from tests.zoneguard.maps.sample import REGION, build_city, map_settings
from zoneguard.maps.city import city_map
from zoneguard.maps.page import render_page
from zoneguard.services.screening import screen


def _tooltips(page):
    return page.evaluate("Array.from(document.querySelectorAll('.zg-tooltip'))"
                         ".map(t => t.textContent)")


def test_school_map_shows_measured_lines_with_distance_labels(served, session, token, page):
    build_city(session)
    page.goto(f"{served}/maps/schools/4201020001?api_key={token()}")
    counts = page.evaluate("window.zgMap.counts")
    assert counts["lines"] == 3 and counts["premises"] == 3 and counts["gates"] == 1
    labels = _tooltips(page)
    assert len(labels) == 3 and all(label.endswith(" 米") for label in labels)
    assert page.console_errors() == []
    page.screenshot(ARTIFACTS / "school_map.png")


def test_screening_map_shows_verdict_point_and_line(served, session, token, page, settings,
                                                    tmp_path):
    build_city(session)
    result = screen(session, category="internet_cafe", point=(114.3025, 30.5507), region=REGION,
                    on=date(2024, 1, 1), settings=map_settings(settings, tmp_path))
    page.goto(f"{served}/maps/screenings/{result.record_id}?api_key={token()}")
    notice = page.evaluate("document.querySelector('.zg-notice').textContent")
    assert "结论：不符合距离要求" in notice
    assert f"{result.conflicts[0].distance_m:.1f} 米" in _tooltips(page)
    assert page.evaluate("window.zgMap.counts.applied") == 1
    assert page.console_errors() == []


def test_permitted_map_states_that_screening_decides(served, session, token, page):
    build_city(session)
    page.goto(f"{served}/maps/permitted?category=internet_cafe&region={REGION}&api_key={token()}")
    notice = page.evaluate("document.querySelector('.zg-notice').textContent")
    assert "以选址筛查结论为准" in notice
    counts = page.evaluate("window.zgMap.counts")
    assert counts["permitted"] == 1 and counts["blocked"] == 1
    assert page.console_errors() == []
    page.screenshot(ARTIFACTS / "permitted_map.png")


def test_standalone_file_opens_offline(session, settings, tmp_path, page):
    build_city(session)
    cfg = map_settings(settings, tmp_path)
    out = tmp_path / "city.html"
    out.write_text(render_page(city_map(session, settings=cfg, region=REGION), standalone=True,
                               settings=cfg), encoding="utf-8")
    page.goto(out.as_uri())
    assert page.evaluate("window.zgMap.counts.premises") == 4
    assert [u for u in page.requested_urls()
            if urlparse(u).scheme not in ("file", "data")] == []
    assert page.console_errors() == []


def test_distance_labels_show_at_street_zoom_only(served, session, token, page):
    build_city(session)
    page.goto(f"{served}/maps/schools/4201020001?api_key={token()}")
    page.evaluate("window.zgMap.map.setZoom(13, {animate: false}) && true")
    page.wait_for("document.querySelectorAll('.zg-tooltip').length === 0")
    assert _tooltips(page) == []
    page.evaluate("window.zgMap.map.setZoom(17, {animate: false}) && true")
    page.wait_for("document.querySelectorAll('.zg-tooltip').length === 3")
    assert all(label.endswith(" 米") for label in _tooltips(page))
    assert page.console_errors() == []


def test_docs_render_swagger_ui_from_local_assets_under_the_csp(served, page):
    page.goto(f"{served}/docs", ready="document.querySelector('.swagger-ui .info .title')")
    title = page.evaluate("document.querySelector('.swagger-ui .info .title').textContent")
    assert "ZoneGuard" in title
    assert all(u.startswith(served) or u.startswith("data:") for u in page.requested_urls())
    assert page.console_errors() == []
