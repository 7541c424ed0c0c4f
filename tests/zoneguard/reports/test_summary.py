"""District summary read back cell by cell: pivot, detail counts, overdue findings, trend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import text

from tests.zoneguard.maps.sample import XSS, build_city
from zoneguard.reports.summary import (
    COUNT_HEADERS,
    OVERDUE_HEADERS,
    PIVOT_HEADERS,
    TREND_HEADERS,
    summary_bytes,
)


def _scan(session, started, new, still_open, resolved):
    return session.execute(text(
        "INSERT INTO scan (trigger, status, started_at, finished_at, new, still_open, resolved, "
        "pairs, rule_set_version) VALUES ('nightly', 'succeeded', :at, :at, :new, :open, :res, "
        "42, 'rs-test') RETURNING id"),
        {"at": started, "new": new, "open": still_open, "res": resolved}).scalar_one()


def test_summary_counts_overdue_and_trend_cell_by_cell(session):
    city = build_city(session)
    first = _scan(session, datetime(2024, 1, 1, 2, tzinfo=UTC), 3, 0, 0)
    second = _scan(session, datetime(2024, 1, 2, 2, tzinfo=UTC), 0, 3, 1)
    wb = load_workbook(BytesIO(summary_bytes(session, region="4201", on=date(2024, 1, 3))))
    assert wb.sheetnames == ["分区汇总", "分类明细", "逾期问题", "扫描趋势"]

    pivot = list(wb["分区汇总"].iter_rows(min_row=3, values_only=True))
    assert pivot[0] == PIVOT_HEADERS
    assert pivot[1] == ("江岸区（420102）", 3, 2, 1, 3, 0, 1)
    assert pivot[2] == ("合计", 3, 2, 1, 3, 0, 1)

    detail = list(wb["分类明细"].iter_rows(values_only=True))
    assert detail[0] == COUNT_HEADERS
    assert sorted(detail[1:]) == sorted([
        ("江岸区（420102）", "网吧", "不符合距离要求", "发现（排查）", 1),
        ("江岸区（420102）", "网吧", "不符合距离要求", "已交办", 1),
        ("江岸区（420102）", "烟草（含电子烟）零售点", "需复核", "整改中", 1)])

    overdue = list(wb["逾期问题"].iter_rows(values_only=True))
    assert overdue[0] == OVERDUE_HEADERS
    assert len(overdue) == 2
    row = overdue[1]
    assert row[:10] == (city.xss_finding, "江岸区（420102）", XSS, "WB-002", "网吧", "实验小学",
                        "不符合距离要求",
                        155.3, "已交办", "王科长")
    assert row[10].date() == date(2020, 6, 30) and row[11] == (date(2024, 1, 3)
                                                                - date(2020, 6, 30)).days

    trend = list(wb["扫描趋势"].iter_rows(values_only=True))
    assert trend[0] == TREND_HEADERS
    assert [r[0] for r in trend[1:]] == [first, second]  # oldest first
    assert trend[2][6:11] == (0, 3, 1, 0, 42)
    # Chinese trigger and status, Beijing time (02:00 UTC is 10:00 in Beijing), whole region
    assert trend[1][1:6] == ("夜间定时", "全部", "成功", datetime(2024, 1, 1, 10),
                             datetime(2024, 1, 1, 10))


def test_summary_of_another_region_is_empty(session):
    build_city(session)
    wb = load_workbook(BytesIO(summary_bytes(session, region="44")))
    assert list(wb["分区汇总"].iter_rows(min_row=4, values_only=True)) == [
        ("合计", 0, 0, 0, 0, 0, 0)]
    assert wb["逾期问题"].max_row == 1
