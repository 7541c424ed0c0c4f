"""Period report: November 2026 of a scripted history, computed by hand, read back cell by cell."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.zoneguard.reports.period_history import (
    NOVEMBER_BY_DISTRICT,
    NOVEMBER_TOTAL,
    OCTOBER_TOTAL,
    build_history,
)
from zoneguard.errors import ValidationError
from zoneguard.reports.period import COUNTS, DEFINITIONS, RATES, Group, group_of
from zoneguard.reports.period_data import Case
from zoneguard.reports.period_form import FORM_HEADERS, FORM_TITLE
from zoneguard.reports.period_html import period_html, period_pdf
from zoneguard.reports.period_report import build_report, report_json
from zoneguard.reports.period_xlsx import FIGURE_HEADERS, SUMMARY_HEADERS, period_bytes
from zoneguard.reports.periods import Period, parse_period, resolve_period

KEYS = [k for k, _ in COUNTS] + [k for k, *_ in RATES]
NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _cells(values: tuple[object, ...]) -> tuple[object, ...]:
    return tuple("—" if v is None else v for v in values)


def test_periods_parse_and_step_back():
    assert parse_period("2026-11") == Period("month", date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-01").previous().code == "2025-12"
    q = parse_period("2026Q1")
    assert (q.start, q.end, q.previous().code, q.label) == (
        date(2026, 1, 1), date(2026, 3, 31), "2025Q4", "2026年第一季度")
    assert parse_period("2026").previous() == Period.year(2025)
    r = resolve_period(start=date(2026, 11, 3), end=date(2026, 11, 12))
    assert r.previous() == Period("range", date(2026, 10, 24), date(2026, 11, 2))
    assert [p.code for p in parse_period("2026-02").last(3)] == ["2025-12", "2026-01", "2026-02"]
    for bad in ("2026-13", "26Q5", "二〇二六", "2026-11-01", "0000", "9999-12", "0001Q1"):
        with pytest.raises(ValidationError):
            parse_period(bad)
    with pytest.raises(ValidationError):
        resolve_period("2026-11", start=date(2026, 11, 1))
    for start, end in ((date(2026, 11, 2), date(2026, 11, 1)), (date.min, date(1901, 1, 1)),
                       (date(2000, 1, 1), date(2020, 1, 1))):
        with pytest.raises(ValidationError):
            resolve_period(start=start, end=end)


def test_november_figures_match_the_hand_computed_answer(session):
    build_history(session)
    report = build_report(session, parse_period("2026-11"), now=NOW)
    data = report_json(report)
    assert tuple(data["total"][k] for k in KEYS) == NOVEMBER_TOTAL
    assert tuple(data["previous_total"][k] for k in KEYS) == OCTOBER_TOTAL
    assert data["change"]["interviews"] == 2 and data["change"]["rectify_rate"] == 16.7
    assert data["change"]["new"] == 0 and data["change"]["on_time_rate"] == 50.0
    assert [(g["name"], *(g[k] for k in KEYS)) for g in data["groups"]] == \
        [tuple(r) for r in NOVEMBER_BY_DISTRICT]
    assert [(t["period"], t["new"], t["closed"], t["open_end"]) for t in data["trend"]] == [
        ("2026-06", 0, 0, 0), ("2026-07", 0, 0, 0), ("2026-08", 0, 0, 0),
        ("2026-09", 1, 0, 0), ("2026-10", 2, 1, 2), ("2026-11", 2, 1, 2)]
    assert data["generated_at"] == "2026-12-02T09:30:00"
    units = {g["name"]: g for g in report_json(report, "unit")["groups"]}
    assert units["区文旅局"]["closed"] == 1 and units["区文旅局"]["rebounds"] == 1
    assert units["区烟草局"]["overdue_end"] == 1 and units["区市场监管局"]["interviews"] == 1
    assert units["未交办"]["other_closed"] == 1 and units["未交办"]["resolved"] == 1
    streets = [g["name"] for g in report_json(report, "street")["groups"]]
    assert streets == ["海淀区（110108）（街道不详）", "江岸区（420102）（街道不详）",
                       "（未关联问题）"]
    categories = {g["name"]: g["new"] for g in report_json(report, "category")["groups"]}
    assert categories["烟草（含电子烟）零售点"] == 1 and categories["traffic_parking"] == 1


def test_street_grouping_names_nine_digit_codes():
    def case(region: str | None) -> Case:
        return Case(1, "scan", region, None, "1", "校", "tobacco", None, None, None, None,
                    "prohibited")

    street = group_of("street")
    assert street(case("110108001001")) == Group("110108001", "万寿路街道（110108001）")
    assert street(case("110108")).name == "海淀区（110108）（街道不详）"
    assert street(case(None)).name == "（区划不详）（街道不详）"
    assert group_of("district")(case("110108001")) == Group("110108", "海淀区（110108）")
    with pytest.raises(ValidationError):
        group_of("province")


def test_december_counts_the_event_just_after_midnight_in_beijing(session):
    h = build_history(session)
    december = report_json(build_report(session, parse_period("2026-12"), now=NOW))
    assert december["total"]["new"] == 1  # C3, found at 00:10 on 1 December in Beijing
    assert december["total"]["closed"] == 0  # C1 was closed at 23:30 on 30 November
    assert december["total"]["open_end"] == 3 and h.c3


def test_scope_filters_everything_and_empty_rates_are_dashes(session):
    build_history(session)
    report = build_report(session, parse_period("2026-11"), region="110108", now=NOW)
    assert [g["name"] for g in report_json(report)["groups"]] == ["海淀区（110108）"]
    assert report.total["interviews"] == 0  # the loose 约谈 only counts without a scope
    lottery = build_report(session, parse_period("2026-11"), categories=["lottery"], now=NOW)
    wb = load_workbook(BytesIO(period_bytes(lottery)))
    assert list(wb["按区"].iter_rows(min_row=4, max_row=4, values_only=True))[0][:17] == (
        "合计", *[0] * 13, "—", "—", "—")


def test_workbook_cells_equal_the_hand_computed_answer(session):
    h = build_history(session)
    report = build_report(session, parse_period("2026-11"), now=NOW)
    wb = load_workbook(BytesIO(period_bytes(report)))
    assert wb.sheetnames == ["汇总", "按区", "按街道", "按责任单位", "按学校", "按类别",
                             FORM_TITLE, "统计口径"]
    summary = wb["汇总"]
    assert summary["B4"].value == datetime(2026, 12, 2, 9, 30)  # Beijing time, a real datetime
    assert tuple(c.value for c in summary[7]) == SUMMARY_HEADERS
    rows = list(summary.iter_rows(min_row=8, max_row=7 + len(KEYS), max_col=3, values_only=True))
    assert [r[1] for r in rows] == list(_cells(NOVEMBER_TOTAL))
    assert [r[2] for r in rows] == list(_cells(OCTOBER_TOTAL))
    assert summary._charts and wb["按区"]._charts

    districts = wb["按区"]
    assert tuple(c.value for c in districts[3]) == ("区", *FIGURE_HEADERS)
    body = list(districts.iter_rows(min_row=4, max_row=7, max_col=17, values_only=True))
    assert body == [_cells(r) for r in NOVEMBER_BY_DISTRICT] + [("合计", *_cells(NOVEMBER_TOTAL))]
    assert districts.cell(4, 15).number_format == '0.0"%"'

    form = wb[FORM_TITLE]
    assert form["A1"].value == FORM_TITLE
    assert tuple(c.value for c in form[3]) == FORM_HEADERS
    lines = {r[-1].split("问题编号 ")[-1]: r for r in form.iter_rows(min_row=4, values_only=True)
             if r[0] is not None and isinstance(r[-1], str) and "问题编号" in r[-1]}
    assert set(lines) == {str(i) for i in (h.c1, h.c2, h.c4, h.c5, h.c6)}
    c1 = lines[str(h.c1)]
    assert c1[1:5] == ("北京市", "海淀区", "第一中学", "校园及周边环境整治问题")
    assert c1[6:11] == ("区文旅局", "已停业并注销许可", datetime(2026, 11, 20), "已销号",
                        datetime(2026, 11, 30))
    assert lines[str(h.c4)][-1].startswith("本期反弹 1 次")
    assert lines[str(h.c2)][-1].startswith("本期挂牌督办")
    assert lines[str(h.c5)][4] == "学生交通安全保障问题"


def test_pdf_report_renders_and_leaves_a_screenshot(session):
    build_history(session)
    report = build_report(session, parse_period("2026-11"), now=NOW)
    html = period_html(report)
    assert "学校周边安全区域问题排查整改统计表（2026年11月）" in html and "66.7%" in html
    pdf = period_pdf(report)
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "period-report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(ARTIFACTS / "period-report.pdf"), str(ARTIFACTS / "period-report")],
                   check=True, timeout=60)
    png = (ARTIFACTS / "period-report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_docs_print_every_definition_of_the_workbook():
    docs = (Path(__file__).resolve().parents[3] / "docs" / "reports.md").read_text("utf-8")
    for name, text in DEFINITIONS:
        assert f"| {name} | {text} |" in docs, name
