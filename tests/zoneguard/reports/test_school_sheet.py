"""一校一表 read back with openpyxl, cell by cell, against an independent distance oracle."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from shapely.geometry import box

from tests import oracle
from tests.factories import add_premises
from tests.zoneguard.maps.sample import XSS, build_city, map_settings
from zoneguard.errors import NotFound
from zoneguard.reports.school_sheet import PREMISES_HEADERS, school_sheet_bytes

CAMPUS = box(114.300, 30.550, 114.302, 30.5515)


def _d(lon, lat):
    return round(oracle.distance_m(lon, lat, CAMPUS)[0], 1)


def test_school_sheet_lists_every_premises_within_reach_cell_by_cell(session, settings, tmp_path):
    city = build_city(session)
    cfg = map_settings(settings, tmp_path)
    data = school_sheet_bytes(session, code="4201020001", settings=cfg, on=date(2024, 5, 1))
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["学校信息", "周边场所距离核查表"]
    info = {row[0]: row[1] for row in wb["学校信息"].iter_rows(min_row=4, values_only=True)}
    assert info["学校名称"] == "实验小学" and info["学校标识码"] == "4201020001"
    assert info["学段"] == "小学" and info["在校生数"] == 900 and info["校门数"] == 1
    assert info["位置精度"] == "校园边界（多边形）" and info["判定日期"].date() == date(2024, 5, 1)
    assert info["规则集版本"].startswith("rs-")
    # two open 禁止 (40 each) and a 需复核 (15), data/risk.yaml: 95 ≥ 80 → 红 whatever else adds
    assert info["风险等级（分级管控）"].startswith("红（") and "建议每日排查" in \
        info["风险等级（分级管控）"]
    for finding in (city.cafe_finding, city.xss_finding):  # tests/zoneguard/maps/sample.py
        assert f"问题#{finding}：禁止 +40" in info["风险分值依据"]
    assert f"问题#{city.tobacco_finding}：需复核 +15" in info["风险分值依据"]
    assert "非法定" in info["风险分级说明"]

    rows = list(wb["周边场所距离核查表"].iter_rows(values_only=True))
    assert rows[0] == PREMISES_HEADERS
    metric = "至校园边界直线距离（椭球面测地线）"
    d_cafe, d_tob, d_xss = _d(114.3028, 30.5507), _d(114.2990, 30.5507), _d(114.301, 30.5529)
    assert rows[1][:10] == (1, "星际网吧", "网吧", "WB-001", "解放路 1 号", "在营", d_cafe, metric,
                            200, "不符合距离要求")
    reason = rows[1][10]
    assert reason.startswith("距校园边界 ") and reason.endswith(" 米，在 200 米以内")
    assert float(reason.split(" ")[1]) == pytest.approx(
        oracle.distance_m(114.3028, 30.5507, CAMPUS)[0], abs=0.02)
    assert rows[1][11:] == ("t.internet_cafe", "测试机关《test basis 200》", city.cafe_finding,
                            "发现（排查）", None, None)
    assert rows[2][:10] == (2, "便民烟酒店", "烟草（含电子烟）零售点", "YC-001", None, "在营",
                            d_tob, metric, 100, "不符合距离要求")
    assert rows[2][11:15] == ("t.tobacco", "测试机关《test basis 100》", city.tobacco_finding,
                              "整改中")
    assert rows[3][:10] == (3, XSS, "网吧", "WB-002", "<b>粗体</b>路", "在营", d_xss, metric, 200,
                            "不符合距离要求")
    assert rows[3][13:] == (city.xss_finding, "已交办", "王科长", rows[3][16])
    assert rows[3][16].date() == date(2020, 6, 30)
    assert len(rows) == 4  # the lottery outlet (770 m) and the closed café are not listed


def test_school_sheet_of_a_kindergarten_marks_rules_that_do_not_apply(session, settings, tmp_path):
    build_city(session)
    cfg = map_settings(settings, tmp_path)
    add_premises(session, "internet_cafe", 114.3205, 30.5612, name="幼儿园旁网吧",
                 licence_no="WB-100")
    wb = load_workbook(BytesIO(school_sheet_bytes(session, code="4201020002", settings=cfg)))
    rows = list(wb["周边场所距离核查表"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[9]) for r in rows] == [("幼儿园旁网吧", "无适用规则")]


def test_school_sheet_of_unknown_school_is_not_found(session, settings, tmp_path):
    with pytest.raises(NotFound):
        school_sheet_bytes(session, code="0000", settings=map_settings(settings, tmp_path))
