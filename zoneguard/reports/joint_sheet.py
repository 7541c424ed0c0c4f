"""一校一表 as the seeds mean it: a school's annual multi-department joint check sheet.

“每年3月实施‘一校一表’问题隐患部门联合年度排查，形成清单，明确责任和举措” (建德市
2020 护校安园通知), covering 食品安全、交通秩序、文化环境、社会治安 and the campus's safety
facilities. Each line is one check item with its 责任单位, a 检查结果 and a 签字 cell. Where
ZoneGuard knows the answer it fills it in: 文化 and 治安 from the siting findings (internet
cafés, entertainment venues; tobacco, alcohol, lottery), and every section from the
hand-registered problems of its category. Facilities are left for the inspectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.cells import put
from zoneguard.labels import LEVEL_LABELS, STATE_LABELS
from zoneguard.queries.nearby import school_by_code
from zoneguard.reports.period import ACTIVE
from zoneguard.reports.period_data import Case, load_cases
from zoneguard.reports.period_form import involved
from zoneguard.reports.periods import Period
from zoneguard.reports.problem_labels import category_name, section_of
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes

JOINT_SHEET = "一校一表"
CASES_SHEET = "问题清单"
ITEM_HEADERS = ("序号", "检查类别", "检查项目", "责任单位", "检查结果", "问题数", "整改要求",
                "责任单位签字")
CASE_HEADERS = ("序号", "检查类别", "问题编号", "类别", "场所或问题", "距离（米）",
                "年末处置状态", "责任单位", "整改期限")
MANUAL = "（待现场检查）"
# (section, item, responsible unit, premises categories it is filled from or None)
ITEMS: tuple[tuple[str, str, str, tuple[str, ...] | None], ...] = (
    ("食品安全", "学校食堂及周边食品经营者持证经营、食品安全管理", "市场监管", None),
    ("食品安全", "校园周边“三无”“五毛”食品及流动食品摊贩", "市场监管、城管", None),
    ("交通安全", "校园周边（150 米）交通标志标线、信号灯、减速带、隔离设施", "公安交管", None),
    ("交通安全", "上放学时段护学岗、接送车辆停放秩序", "公安交管", None),
    ("交通安全", "校车及接送学生车辆资质", "公安交管、交通运输", None),
    ("文化市场", "校园周边 200 米内互联网上网服务营业场所（网吧）", "文旅（文化市场综合执法）",
     ("internet_cafe",)),
    ("文化市场", "校园周边 200 米内歌舞、游艺等娱乐场所", "文旅（文化市场综合执法）",
     ("entertainment",)),
    ("文化市场", "网吧、娱乐场所接纳未成年人；书报刊亭、文具店经营非法出版物", "文旅", None),
    ("治安", "校园周边烟草制品（含电子烟）零售点", "烟草专卖、市场监管", ("tobacco",)),
    ("治安", "校园周边酒类销售点；向未成年人售酒", "商务、市场监管", ("alcohol", "bar")),
    ("治安", "校园周边彩票销售网点", "民政、体育（彩票管理）", ("lottery",)),
    ("治安", "护学岗、校园警务室、高峰勤务和周边巡逻防控", "公安", None),
    ("安全设施", "一键式紧急报警、视频监控与公安联网", "教育、公安", None),
    ("安全设施", "校门口隔离墩、隔离护栏、升降柱等防冲撞设施", "教育、公安", None),
    ("安全设施", "专职保安配备与培训", "教育、公安", None),
    ("安全设施", "消防设施和器材", "消防救援、教育", None),
)
# Hand-registered problems of each section are listed on a line of their own.
REPORTED_LINE = "系统登记的{section}问题（网格员、学校上报）"
OTHER_LINE = "其他问题（系统登记的其他问题及其他类别场所）"
REPORT_UNITS = {"食品安全": "市场监管", "交通安全": "公安交管", "文化市场": "文旅", "治安": "公安",
                "安全设施": "教育", "其他": "综治办（属地街道）"}


def _name(case: Case) -> str:
    if case.kind == "report":
        return case.description or category_name(case.category, case.kind)
    return case.premises_name or ""


def _case_text(case: Case, state: str | None) -> str:
    name = _name(case)
    distance = "" if case.distance_m is None else f" {case.distance_m:.1f} 米"
    return f"{name}{distance}（{STATE_LABELS.get(state or '', state or '')}）"


def _result(cases: list[tuple[Case, str | None]], none_text: str) -> tuple[str, int | None]:
    if not cases:
        return none_text, 0
    open_ = sum(1 for _, state in cases if state in ACTIVE)
    listed = "；".join(_case_text(c, s) for c, s in cases)
    return f"发现 {len(cases)} 处（年末未办结 {open_} 处）：{listed}", len(cases)



def item_rows(cases: Sequence[Case], year: Period) -> list[list[Any]]:
    """The check lines: fixed items (filled from findings where known) and reported problems."""
    known = [(c, next((e.to_state for e in reversed(c.events) if e.day <= year.end), None))
             for c in cases if involved(c, year.start, year.end)]
    rows: list[list[Any]] = []
    sections = list(dict.fromkeys(s for s, *_ in ITEMS)) + ["其他"]
    for section in sections:
        for sec, item, unit, categories in ITEMS:
            if sec != section:
                continue
            if categories is None:
                rows.append([sec, item, unit, MANUAL, None])
                continue
            hits = [(c, s) for c, s in known if c.kind != "report" and c.category in categories]
            rows.append([sec, item, unit, *_result(hits, "系统未发现距离冲突（请现场核实）")])
        reported = [(c, s) for c, s in known if section_of(c.category, c.kind) == section
                    and (c.kind == "report" or section == "其他")]
        if reported or section != "安全设施":
            line = OTHER_LINE if section == "其他" else REPORTED_LINE.format(section=section)
            rows.append([section, line, REPORT_UNITS[section],
                         *_result(reported, "本年度无登记问题")])
    return [[n, *row, None, None] for n, row in enumerate(rows, 1)]


def case_rows(cases: Sequence[Case], year: Period) -> list[list[Any]]:
    """The year's cases of the school, by section: the list the joint check works through."""
    out = []
    for case in cases:
        if not involved(case, year.start, year.end):
            continue
        upto = [e for e in case.events if e.day <= year.end]
        deadline = next((e.deadline for e in reversed(upto) if e.deadline), None)
        out.append([section_of(case.category, case.kind), case.id,
                    category_name(case.category, case.kind), _name(case),
                    None if case.distance_m is None else round(case.distance_m, 1),
                    STATE_LABELS.get(upto[-1].to_state, upto[-1].to_state),
                    case.assignee or "未交办", deadline])
    out.sort(key=lambda r: (r[0], r[1]))
    return [[n, *row] for n, row in enumerate(out, 1)]


def joint_workbook(session: Session, *, code: str, year: int, region: str | None = None,
                   categories: list[str] | None = None) -> Workbook:
    """The 一校一表 of a school for a year: header, check lines with sign-off, case list."""
    school = school_by_code(session, code)
    period = Period.year(year)
    cases = load_cases(session, end=period.end, region=region, categories=categories,
                       school=code).cases
    wb = Workbook()
    ws = wb.active
    ws.title = JOINT_SHEET
    put(ws, 1, 1, f"{school['name']} {year} 年度校园周边安全“一校一表”问题隐患部门联合排查表"
        ).font = Font(bold=True, size=14)
    ws.merge_cells("A1:H1")
    levels = "、".join(LEVEL_LABELS.get(v, v) for v in school["levels"] or [])
    header = (("学校名称", school["name"]), ("学校标识码", school["code"]),
              ("所在区划", regions.full_name(school["region"]) if school["region"] else ""),
              ("学段", levels), ("在校生数", school["enrolment"]), ("排查年度", year),
              ("检查日期", None), ("检查人员（签名）", None), ("", None), ("", None))
    for row, (label, value) in enumerate(header, 3):
        put(ws, row, 1, label).font = BOLD
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        put(ws, row, 2, value)
    start = 3 + len(header) + 1
    last = table(ws, ITEM_HEADERS, item_rows(cases, period), start_row=start,
                 widths=[6, 10, 40, 18, 60, 8, 24, 16])
    ws.auto_filter.ref = None
    for row in ws.iter_rows(min_row=start + 1, max_row=last):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row[0].row].height = 36
    put(ws, last + 2, 1, "牵头单位（综治办）审核：　　　　　　　　日期：　　　年　　月　　日")
    ws.merge_cells(start_row=last + 2, start_column=1, end_row=last + 2, end_column=8)
    put(ws, last + 3, 1, "说明：检查结果中“发现”各项来自 ZoneGuard 的测距扫描和登记问题"
        "（截至年末的处置状态）；其余各项由责任单位现场检查后填写并签字。")
    ws.merge_cells(start_row=last + 3, start_column=1, end_row=last + 3, end_column=8)
    sheet = wb.create_sheet(CASES_SHEET)
    end = table(sheet, CASE_HEADERS, case_rows(cases, period),
                widths=[6, 10, 10, 22, 30, 10, 16, 16, 12])
    for row in sheet.iter_rows(min_row=2, max_row=end, min_col=9, max_col=9):
        row[0].number_format = "yyyy-mm-dd"
    return wb


def joint_sheet_bytes(session: Session, **kwargs: Any) -> bytes:
    """The 一校一表 as .xlsx bytes (arguments as `joint_workbook`)."""
    return workbook_bytes(joint_workbook(session, **kwargs))
