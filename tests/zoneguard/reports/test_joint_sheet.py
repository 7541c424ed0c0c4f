"""一校一表 (annual joint check sheet) read back: header, check lines filled from the cases."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.zoneguard.reports.period_history import build_history
from zoneguard.errors import NotFound
from zoneguard.reports import problem_labels
from zoneguard.reports.joint_sheet import (
    CASE_HEADERS,
    CASES_SHEET,
    ITEM_HEADERS,
    JOINT_SHEET,
    MANUAL,
    joint_sheet_bytes,
)
from zoneguard.reports.problem_labels import section_of


def _lines(wb):
    ws = wb[JOINT_SHEET]
    start = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    assert tuple(c.value for c in ws[start]) == ITEM_HEADERS
    return {(row[1], row[2]): row for row in ws.iter_rows(min_row=start + 1, values_only=True)
            if isinstance(row[0], int)}


def test_joint_sheet_fills_culture_security_and_reported_lines(session):
    h = build_history(session)
    wb = load_workbook(BytesIO(joint_sheet_bytes(session, code="4201020009", year=2026)))
    assert wb.sheetnames == [JOINT_SHEET, CASES_SHEET]
    ws = wb[JOINT_SHEET]
    assert ws["A1"].value == "江岸小学 2026 年度校园周边安全“一校一表”问题隐患部门联合排查表"
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, 13)}
    assert header["学校标识码"] == "4201020009" and header["所在区划"] == "湖北省武汉市江岸区"
    assert header["学段"] == "小学" and header["在校生数"] == 800 and header["排查年度"] == 2026
    assert header["检查日期"] is None and header["检查人员（签名）"] is None

    lines = _lines(wb)
    cafe = lines[("文化市场", "校园周边 200 米内互联网上网服务营业场所（网吧）")]
    assert cafe[3:6] == ("文旅（文化市场综合执法）",
                         "发现 1 处（年末未办结 1 处）：江岸网吧 120.0 米（发现（排查））", 1)
    assert cafe[7] is None  # 签字 left for the unit
    lottery = lines[("治安", "校园周边彩票销售网点")]
    assert lottery[4] == "发现 1 处（年末未办结 1 处）：体彩 0101 90.0 米（发现（排查））"
    assert lines[("治安", "校园周边烟草制品（含电子烟）零售点")][4:6] == (
        "系统未发现距离冲突（请现场核实）", 0)
    traffic = lines[("交通安全", "系统登记的交通安全问题（网格员、学校上报）")]
    assert traffic[3:6] == ("公安交管",
                            "发现 1 处（年末未办结 0 处）：校门口车辆违停（核查不属实）", 1)
    assert lines[("食品安全", "校园周边“三无”“五毛”食品及流动食品摊贩")][4] == MANUAL
    assert lines[("安全设施", "消防设施和器材")][3:5] == ("消防救援、教育", MANUAL)

    cases = list(wb[CASES_SHEET].iter_rows(values_only=True))
    assert cases[0] == CASE_HEADERS
    assert {r[2] for r in cases[1:]} == {h.c3, h.c4, h.c5}
    c4 = next(r for r in cases[1:] if r[2] == h.c4)
    assert c4[1] == "文化市场" and c4[6:] == ("发现（排查）", "区文旅局", datetime(2026, 10, 1))


def test_joint_sheet_of_a_quiet_year_and_an_unknown_school(session):
    build_history(session)
    lines = _lines(load_workbook(BytesIO(joint_sheet_bytes(session, code="1101080001",
                                                           year=2025))))
    assert lines[("文化市场", "校园周边 200 米内互联网上网服务营业场所（网吧）")][5] == 0
    assert all(row[5] in (0, None) for row in lines.values())
    with pytest.raises(NotFound):
        joint_sheet_bytes(session, code="nope", year=2026)


@pytest.mark.parametrize(("category", "kind", "section"), [
    ("internet_cafe", "scan", "文化市场"), ("tobacco", "scan", "治安"),
    ("food_stall", "report", "食品安全"), ("traffic_parking", "report", "交通安全"),
    ("校门口违停", "report", "交通安全"), ("something_else", "report", "其他"),
    (None, "report", "其他"), ("gas_station", "scan", "其他")])
def test_categories_map_to_sections_defensively(category, kind, section):
    assert section_of(category, kind) == section


@pytest.mark.parametrize("text", [
    "categories:\n  - code: p01\n    name: 无证食品摊贩\n",
    "- code: p01\n  name: 无证食品摊贩\n",
    "p01: 无证食品摊贩\n",
    "p01:\n  label: 无证食品摊贩\n"])
def test_problem_names_are_read_from_any_plain_shape(tmp_path, monkeypatch, text):
    path = tmp_path / "problems.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(problem_labels, "_PROBLEMS", path)
    problem_labels.problem_names.cache_clear()
    try:
        assert problem_labels.category_name("p01", "report") == "无证食品摊贩"
        assert section_of("p01", "report") == "食品安全"
    finally:
        problem_labels.problem_names.cache_clear()


def test_a_broken_problem_file_falls_back_to_codes(tmp_path, monkeypatch):
    path = tmp_path / "problems.yaml"
    path.write_text("p01: [unclosed", encoding="utf-8")
    monkeypatch.setattr(problem_labels, "_PROBLEMS", path)
    problem_labels.problem_names.cache_clear()
    try:
        assert problem_labels.category_name("p01", "report") == "p01"
        assert section_of("p01", "report") == "其他"
    finally:
        problem_labels.problem_names.cache_clear()
