"""The period report workbook: summary, groupings, the seeds' 汇总表 and the definitions.

汇总 holds the totals with 环比 and a six-period trend; then one sheet per grouping.

Numbers are numbers, rates are numbers shown as `66.7%` ("—" when the denominator is 0),
dates are dates and times are Beijing time.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from zoneguard.cells import put
from zoneguard.reports.period import COUNTS, DEFINITIONS, GROUPINGS, RATES
from zoneguard.reports.period_form import add_form_sheet
from zoneguard.reports.period_report import PeriodReport
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes

PERCENT = '0.0"%"'
NO_RATE = "—"
SUMMARY_SHEET = "汇总"
NOTES_SHEET = "统计口径"
GROUP_HEADS = {"district": "区", "street": "街道", "unit": "责任单位", "school": "学校",
               "category": "类别"}
FIGURE_HEADERS = tuple(n for _, n in COUNTS) + tuple(n for _, n, *_ in RATES)
SUMMARY_HEADERS = ("指标", "本期", "上期", "环比增减")
TREND_HEADERS = ("统计期间", "本期新增", "本期销号", "期末未办结")
TITLE = "学校周边安全区域问题排查整改统计表"


def figure_cells(values: dict[str, Any]) -> list[Any]:
    """The figures of one row: counts, then rates (None → "—")."""
    return [values[k] for k, _ in COUNTS] + [NO_RATE if values[k] is None else values[k]
                                             for k, *_ in RATES]


def _rate_formats(ws: Worksheet, first_row: int, last_row: int, columns: list[int]) -> None:
    for row in ws.iter_rows(min_row=first_row, max_row=last_row):
        for col in columns:
            row[col - 1].number_format = PERCENT


def _summary(ws: Worksheet, report: PeriodReport) -> None:
    p = report.period
    put(ws, 1, 1, f"{TITLE}（{p.label}）").font = Font(bold=True, size=14)
    for row, (label, value) in enumerate((
            ("统计期间", f"{p.start.isoformat()} 至 {p.end.isoformat()}（{p.code}）"),
            ("上一期间（环比）", f"{p.previous().label}（{p.previous().code}）"),
            ("生成时间（北京时间）", report.generated_at), ("统计范围", report.scope_text)), 2):
        put(ws, row, 1, label).font = BOLD
        cell = put(ws, row, 2, value)
        if label.startswith("生成时间"):
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
    rows: list[list[Any]] = []
    for key, name in COUNTS:
        rows.append([name, report.total[key], report.previous_total[key], report.change[key]])
    for key, name, *_ in RATES:
        rows.append([name + "（%）", *(NO_RATE if v is None else v for v in (
            report.total[key], report.previous_total[key], report.change[key]))])
    last = table(ws, SUMMARY_HEADERS, rows, start_row=7, widths=[22, 34, 12, 12])
    for row in ws.iter_rows(min_row=last - len(RATES) + 1, max_row=last, min_col=2, max_col=4):
        for cell in row:
            cell.number_format = "0.0"
    ws.freeze_panes = None
    trend_row = last + 3
    put(ws, trend_row - 1, 1, f"近 {len(report.trend)} 期趋势").font = BOLD
    end = table(ws, TREND_HEADERS, ([t.label, v["new"], v["closed"], v["open_end"]]
                                    for t, v in report.trend), start_row=trend_row)
    ws.auto_filter.ref = None
    ws.freeze_panes = None
    chart = LineChart()
    chart.title = "期末未办结（近六期）"
    chart.y_axis.title = "件"
    chart.add_data(Reference(ws, min_col=4, min_row=trend_row, max_row=end), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=trend_row + 1, max_row=end))
    chart.height, chart.width = 7, 16
    ws.add_chart(chart, f"F{trend_row}")


def _grouping(ws: Worksheet, report: PeriodReport, by: str) -> None:
    p = report.period
    put(ws, 1, 1, f"{TITLE}（{p.label}，{GROUPINGS[by]}）").font = Font(bold=True, size=13)
    rows = [[g.name, *figure_cells(v)] for g, v in report.groups[by]]
    rows.append(["合计", *figure_cells(report.total)])
    last = table(ws, (GROUP_HEADS[by], *FIGURE_HEADERS), rows, start_row=3,
                 widths=[30] + [10] * len(FIGURE_HEADERS))
    for cell in ws[3]:
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    rate_columns = list(range(2 + len(COUNTS), 2 + len(COUNTS) + len(RATES)))
    _rate_formats(ws, 4, last, rate_columns)
    put(ws, last + 1, 1, "口径见“统计口径”表；比率分母为 0 时记“—”。")
    if by == "district" and len(rows) > 1:
        chart = BarChart()
        chart.type = "col"
        chart.title = "本期新增与本期销号（按区）"
        chart.y_axis.title = "件"
        for col in (2, 1 + [k for k, _ in COUNTS].index("closed") + 1):
            chart.add_data(Reference(ws, min_col=col, min_row=3, max_row=last - 1),
                           titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=4, max_row=last - 1))
        chart.height, chart.width = 8, 18
        ws.add_chart(chart, f"B{last + 3}")


def period_workbook(report: PeriodReport) -> Workbook:
    """The workbook of a period report."""
    wb = Workbook()
    summary = wb.active
    summary.title = SUMMARY_SHEET
    _summary(summary, report)
    for by, title in GROUPINGS.items():
        _grouping(wb.create_sheet(title), report, by)
    add_form_sheet(wb, report)
    notes = wb.create_sheet(NOTES_SHEET)
    last = table(notes, ("指标", "定义"), DEFINITIONS, widths=[16, 100])
    for row in notes.iter_rows(min_row=2, max_row=last, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    return wb


def period_bytes(report: PeriodReport) -> bytes:
    """The period workbook as .xlsx bytes."""
    return workbook_bytes(period_workbook(report))
