"""附件1 中小学幼儿园安全主要隐患问题排查整改汇总表 (鄂政办电〔2021〕5号), filled from the cases.

The seed names the form but does not reproduce its table; the columns follow what the text
asks the list to hold: the place (市州、县市区、学校), the problem and its category (the
plan's 治理重点 headings), and the 五落实 of each problem (责任单位、整改措施、整改时限), its
整改情况 and 销号 (“梳理问题清单，明确部门和人员责任，立行立改，实行销号管理”).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook

from zoneguard import regions
from zoneguard.cells import put
from zoneguard.labels import STATE_LABELS, VERDICT_LABELS
from zoneguard.reports.period import ACTIVE, UNASSIGNED, district_of
from zoneguard.reports.period_data import Case
from zoneguard.reports.period_report import PeriodReport
from zoneguard.reports.problem_labels import category_name, section_of
from zoneguard.reports.xlsx import table

FORM_TITLE = "中小学幼儿园安全主要隐患问题排查整改汇总表"
FORM_HEADERS = ("序号", "市（州）", "县（市、区）", "学校名称", "隐患问题类别", "隐患问题",
                "责任单位", "整改措施", "整改时限", "整改情况", "销号日期", "备注")
# 治理重点 headings of the plan (三、(三)(四)(七)(八)) by joint-sheet section.
HEADING = {"交通安全": "学生交通安全保障问题", "治安": "学校周边治安重点防控问题",
           "食品安全": "学校公共卫生及学生身心健康问题"}
ENVIRONMENT = "校园及周边环境整治问题"


def involved(case: Case, start: date, end: date) -> bool:
    """A case of the period: it changed state in the period, or it was open at its end."""
    upto = [e for e in case.events if e.day <= end]
    return bool(upto) and (any(e.day >= start for e in upto) or upto[-1].to_state in ACTIVE)


def _problem(case: Case) -> str:
    if case.kind == "report":
        return case.description or category_name(case.category, case.kind)
    what = f"{case.premises_name or ''}（{category_name(case.category)}）"
    if case.distance_m is None or case.threshold_m is None:
        return what + VERDICT_LABELS.get(case.verdict, case.verdict)
    return (f"{what}距学校 {case.distance_m:.1f} 米，在规定的 {case.threshold_m:g} 米范围内，"
            f"{VERDICT_LABELS.get(case.verdict, case.verdict)}")


def form_row(case: Case, start: date, end: date) -> list[Any]:
    """The 汇总表 cells of one case as of `end` (序号 left out)."""
    upto = [e for e in case.events if e.day <= end]
    state = upto[-1].to_state
    district = district_of(case)
    section = section_of(case.category, case.kind)
    measures = next((e.comment for e in reversed(upto) if e.to_state == "to_accept"), None)
    deadline = next((e.deadline for e in reversed(upto) if e.deadline), None)
    closed = next((e.day for e in reversed(upto) if e.to_state == "closed"), None)
    notes = []
    rebounds = sum(1 for e in upto if start <= e.day and (e.comment or "").startswith("反弹"))
    if rebounds:
        notes.append(f"本期反弹 {rebounds} 次")
    if any(start <= d <= end for d in case.orders):
        notes.append("本期挂牌督办")
    notes.append(f"问题编号 {case.id}")
    return [
        regions.name(case.region[:4]) if case.region and len(case.region) >= 4 else "",
        regions.name(district) if district else "",
        case.school_name,
        ENVIRONMENT if case.kind != "report" else HEADING.get(section, ENVIRONMENT),
        _problem(case), case.assignee or UNASSIGNED, measures, deadline,
        STATE_LABELS.get(state, state), closed, "；".join(notes),
    ]


def form_rows(report: PeriodReport) -> list[list[Any]]:
    """The 汇总表 rows of the period's cases, by district, school and case."""
    p = report.period
    cases = sorted((c for c in report.data.cases if involved(c, p.start, p.end)),
                   key=lambda c: (district_of(c) or "\uffff", c.school_code, c.id))
    return [[n, *form_row(c, p.start, p.end)] for n, c in enumerate(cases, 1)]


def add_form_sheet(wb: Workbook, report: PeriodReport) -> None:
    """The 汇总表 as a sheet of `wb`: title, 填报 line, headers and one row per case."""
    ws = wb.create_sheet(FORM_TITLE)
    last = get_column_letter(len(FORM_HEADERS))
    put(ws, 1, 1, FORM_TITLE).font = Font(bold=True, size=16)
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].alignment = Alignment(horizontal="center")
    put(ws, 2, 1, f"填报单位（范围）：{report.scope_text}　统计期间：{report.period.label}"
                  f"（{report.period.start.isoformat()} 至 {report.period.end.isoformat()}）"
                  f"　填报时间（北京时间）：{report.generated_at:%Y-%m-%d %H:%M}")
    ws.merge_cells(f"A2:{last}2")
    rows = form_rows(report)
    end = table(ws, FORM_HEADERS, rows, start_row=3,
                widths=[6, 10, 12, 22, 22, 48, 16, 30, 12, 16, 12, 24])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=4, max_row=end):
        for i in (5, 7, 11):  # 隐患问题, 整改措施, 备注: long text (styles are costly per cell)
            row[i].alignment = wrap
        row[8].number_format = row[10].number_format = "yyyy-mm-dd"
    put(ws, end + 2, 1, "填表人：　　　　　　审核人：　　　　　　联系电话：")
    ws.merge_cells(f"A{end + 2}:{last}{end + 2}")
