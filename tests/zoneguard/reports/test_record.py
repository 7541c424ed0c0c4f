"""Measurement records: what reproduces the measurement is printed; the PDF is printable."""

from __future__ import annotations

from datetime import date

import pytest
from pyproj import Geod

from tests.zoneguard.maps.sample import REGION, XSS, build_city, map_settings
from zoneguard.errors import NotFound
from zoneguard.reports.record import finding_record_html, html_to_pdf, screening_record_html
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening import screen


def test_screening_record_holds_points_distance_rule_versions_and_sketch(session, settings,
                                                                       tmp_path):
    build_city(session)
    cfg = map_settings(settings, tmp_path)
    result = screen(session, category="internet_cafe", point=(114.3025, 30.5507), region=REGION,
                    on=date(2024, 1, 1), settings=cfg)
    html = screening_record_html(session, screening_id=result.record_id)
    conflict = result.conflicts[0]
    (lon1, lat1), (lon2, lat2) = conflict.line
    recheck = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]
    assert f"{conflict.distance_m:.1f} 米" in html
    assert f"{recheck:.2f} 米（pyproj.Geod" in html
    assert recheck == pytest.approx(conflict.distance_m, abs=0.01)
    assert "test basis 200" in html and "t.internet_cafe" in html
    assert result.rule_set_version in html
    assert f"经度 {lon1:.7f}，纬度 {lat1:.7f}" in html
    assert "ST_Distance(geography(" in html
    assert "<svg" in html and "实验小学" in html
    assert "至校园边界直线距离" in html and "不符合距离要求" in html


def test_finding_record_escapes_names_and_shows_scan_state(session, settings, tmp_path):
    city = build_city(session)
    rules = current_rule_set(map_settings(settings, tmp_path))
    html = finding_record_html(session, finding_id=city.xss_finding, rule_set=rules)
    assert f"测试机关《test basis 200》（取自现行规则集 {rules.version}）" in html
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "155.3 米" in html and "已交办" in html and "王科长" in html
    assert "rs-test" in html


def test_record_of_missing_finding_is_not_found(session):
    with pytest.raises(NotFound):
        finding_record_html(session, finding_id=987654321)


def test_record_prints_to_pdf_with_headless_chromium(session):
    city = build_city(session)
    pdf = html_to_pdf(finding_record_html(session, finding_id=city.cafe_finding))
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 5_000
