"""The city map in headless Chromium: layers, counts, escaped popups, no outside requests."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.browser.cdp import Browser
from tests.conftest import ARTIFACTS
from tests.zoneguard.maps.sample import XSS, build_city


def _only_loopback(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith("data:")
            and urlparse(u).hostname not in ("127.0.0.1",)]


def test_city_map_opens_with_layers_counts_and_no_console_errors(served, session, token, page):
    build_city(session)
    key = token()
    page.goto(f"{served}/maps/city?region=420102&api_key={key}")
    counts = page.evaluate("window.zgMap.counts")
    assert counts["schools"] == 2
    assert counts["premises"] == 4  # the closed one and the other district's are not drawn
    assert counts["findings"] == 3
    assert counts["lines"] == 3
    assert counts["zones:200"] == 1 and counts["zones:100"] == 2
    names = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())")
    assert "安全区 · 200 米范围（1）" in names
    assert "类别 · 网吧（2）" in names
    assert "结论 · 不符合距离要求（2）" in names
    assert "问题 · 测量线（3）" in names
    legend = page.evaluate("document.querySelector('.zg-legend').textContent")
    assert "网吧" in legend and "200 米范围" in legend
    assert page.console_errors() == []
    assert _only_loopback(page.requested_urls()) == []
    assert not any("unpkg" in u or "cdn" in u for u in page.requested_urls())
    page.screenshot(ARTIFACTS / "city_map.png")


def test_xss_name_in_popup_stays_text(served, session, token, page: Browser):
    build_city(session)
    page.goto(f"{served}/maps/city?region=420102&api_key={token()}")
    html = page.evaluate("""(() => {
        const ring = Object.values(window.zgMap.layers.findings.layer._layers)
            .find(l => l.feature.properties._title.includes('onerror'));
        ring.openPopup();
        const box = document.querySelector('.leaflet-popup-content');
        return {text: box.querySelector('h4').textContent, imgs: box.querySelectorAll('img').length,
                bold: box.querySelectorAll('b').length, html: box.innerHTML};
    })()""")
    assert html["text"] == XSS
    assert html["imgs"] == 0 and html["bold"] == 0
    assert "&lt;img src=x onerror=alert(1)&gt;" in html["html"]
    assert page.dialogs == []
    assert page.console_errors() == []


def test_verdict_toggle_hides_prohibited_premises(served, session, token, page):
    build_city(session)
    page.goto(f"{served}/maps/city?region=420102&api_key={token()}")
    shown = page.evaluate("""(() => {
        const labels = document.querySelectorAll('.leaflet-control-layers-overlays label');
        const label = Array.from(labels).find(
            l => l.textContent.trim().startsWith('结论 · 不符合距离要求'));
        label.querySelector('input').click();
        return window.zgMap.counts['premises:shown'];
    })()""")
    assert shown == 2
    assert page.console_errors() == []
