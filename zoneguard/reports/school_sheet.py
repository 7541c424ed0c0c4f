"""周边场所距离核查表: one school's details and every premises within reach, judged.

(The seeds' 一校一表 is the annual joint check sheet: `joint_sheet.py`.)

Each row is one premises under one applicable rule: category, distance, metric, verdict,
rule and legal basis (measured on the screening path), with the stored finding's state,
assignee and deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.cells import put_at
from zoneguard.maps import style
from zoneguard.queries.nearby import Nearby, premises_near, school_by_code
from zoneguard.reports.human import beijing
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes
from zoneguard.risk_formula import risk_formula
from zoneguard.rules import RuleSet
from zoneguard.services.cases.risk import SchoolRisk, school_risk_by_id
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings, local_today

PREMISES_HEADERS = (
    "序号", "场所名称", "类别", "许可证号", "地址", "经营状态", "距离（米）", "测量方式",
    "规定距离（米）", "结论", "说明", "规则", "法律依据", "问题编号", "处置状态", "责任人",
    "整改期限",
)
DISTANCE_SHEET = "周边场所距离核查表"
_RANK = {"prohibited": 0, "review": 1, "allowed": 2, None: 3}


def premises_rows(nearby: Sequence[Nearby]) -> list[list[Any]]:
    """One row per premises × applicable rule (or one 'no rule' row), worst first."""
    rows: list[tuple[tuple[Any, ...], list[Any]]] = []
    for item in nearby:
        p = item.premises
        head = [p["name"], style.category_label(p["category"]), p["licence_no"], p["address"],
                style.STATUS_LABELS.get(p["status"], p["status"])]
        if not item.judgements:
            rows.append(((3, float("inf"), p["id"]),
                         [*head, None, None, None, "无适用规则", "本校学段不受该类别规则保护",
                          None, None, None, None, None, None]))
            continue
        for j in item.judgements:
            finding = item.findings.get(j.rule.rule.id) or {}
            distance = None if j.distance_m is None else round(j.distance_m, 1)
            rows.append(((_RANK[j.verdict.value], distance if distance is not None
                          else j.school.boundary_m, p["id"]), [
                *head, distance, style.metric_label(j.metric), j.threshold_m,
                style.verdict_label(j.verdict.value), "；".join(j.reasons), j.rule.rule.id,
                j.rule.rule.basis, finding.get("id"), style.state_label(finding.get("state")),
                finding.get("assignee"), finding.get("deadline")]))
    rows.sort(key=lambda r: r[0])
    return [[n, *row] for n, (_, row) in enumerate(rows, 1)]


def school_details(school: dict[str, Any], rule_set: RuleSet, on: date,
                   risk: SchoolRisk | None = None) -> list[list[Any]]:
    """Label/value rows describing the school, its risk grade and the basis of the sheet."""
    graded = [] if risk is None else [
        ["风险等级（分级管控）", risk.summary], ["风险分值依据", risk.basis],
        ["风险分级说明", risk_formula().notice]]
    return [
        ["学校名称", school["name"]], ["学校标识码", school["code"]],
        ["学段", style.levels_label(school["levels"])], ["在校生数", school["enrolment"]],
        ["行政区划", regions.labelled(school["region"])], ["地址", school["address"]],
        ["位置精度", "校园边界（多边形）" if school["precision"] == "boundary" else "仅有点位"],
        ["校门数", school["gates"]], ["开办日期", school["opened_on"]],
        ["数据来源", school["source"]],
        ["学校数据更新时间（北京时间）", beijing(school["updated_at"])],
        ["规则集版本", rule_set.version], ["判定日期", on],
        ["制表时间（北京时间）", beijing(datetime.now(UTC).replace(microsecond=0))],
        ["测量说明", "距离为 WGS 84 椭球面测地线距离：边界规则自场所点至校园边界，校门规则"
                    "自场所入口至最近校门；步行规则需路网。与选址筛查同一测距路径。"],
    ] + graded


def school_workbook(
    session: Session, *, code: str, settings: Settings, rule_set: RuleSet | None = None,
    on: date | None = None, categories: Sequence[str] | None = None, region: str | None = None,
) -> Workbook:
    """The 周边场所距离核查表 workbook of a school: 学校信息 and the distance sheet."""
    rules = rule_set or current_rule_set(settings)
    day = on or local_today(settings.timezone)
    school = school_by_code(session, code)
    nearby = premises_near(session, school, rule_set=rules, settings=settings, on=day,
                           categories=categories, region=region)
    wb = Workbook()
    info = wb.active
    info.title = "学校信息"
    put_at(info, "A1", f"{school['name']} {DISTANCE_SHEET}").font = BOLD
    risk = school_risk_by_id(session, school["id"], today=day)
    last = table(info, ["项目", "内容"], school_details(school, rules, day, risk), start_row=3,
                 widths=[18, 70])
    for row in info.iter_rows(min_row=4, max_row=last, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet = wb.create_sheet(DISTANCE_SHEET)
    table(sheet, PREMISES_HEADERS, premises_rows(nearby),
          widths=[6, 24, 14, 16, 24, 10, 11, 26, 12, 10, 40, 18, 40, 10, 14, 10, 12])
    return wb


def school_sheet_bytes(session: Session, **kwargs: Any) -> bytes:
    """The 周边场所距离核查表 as .xlsx bytes (arguments as `school_workbook`)."""
    return workbook_bytes(school_workbook(session, **kwargs))
