"""设施覆盖率 workbook: required facilities met per district and requirement, and per school.

One sheet per view a 综治办 reads: the district table against each requirement's target
from the rule file (with its basis), and the schools with what each misses and why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.cells import put_at
from zoneguard.facility_kinds import kind_name
from zoneguard.reports.human import beijing
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes
from zoneguard.rules import RuleSet
from zoneguard.services.facilities.coverage import coverage

DISTRICT_HEADERS = ("区县", "要求编号", "设施", "应达标学校数", "达标学校数", "达标率", "目标",
                    "是否达标", "依据")
SCHOOL_HEADERS = ("学校", "学校标识码", "区划", "已满足要求", "未满足要求", "缺失说明")


def coverage_rows(result: dict[str, Any], rules: RuleSet) -> tuple[list[list[Any]],
                                                                      list[list[Any]]]:
    """The district rows and the school rows of a coverage result, as people read them."""
    basis = {r.id: r.basis for r in rules.requirements}
    districts = [[regions.labelled(d["district"]) if d["district"].isdigit() else d["district"],
                  d["requirement_id"], d["kind_name"], d["schools"], d["met"],
                  f"{d['rate']:.1%}", f"{d['target']:.0%}", "达标" if d["reached"] else "未达标",
                  basis.get(d["requirement_id"], "")] for d in result["districts"]]
    schools = [[s["name"], s["code"], regions.labelled(s["region"]) if s["region"] else "—",
                "、".join(s["met"]) or "—",
                "、".join(f"{m['requirement_id']}（{kind_name(m['kind'])}）"
                         for m in s["missing"]) or "—",
                "；".join(r for m in s["missing"] for r in m["reasons"]) or "—"]
               for s in result["schools"] if s["met"] or s["missing"]]
    return districts, schools


def coverage_workbook(session: Session, *, rules: RuleSet, on: date,
                      region: str | None = None) -> Workbook:
    """The 设施覆盖率 workbook on a day, within a region prefix (None: everywhere)."""
    districts, schools = coverage_rows(coverage(session, rules=rules, on=on, region=region),
                                       rules)
    wb = Workbook()
    ws = wb.active
    ws.title = "按区县"
    put_at(ws, "A1", "护校安园必备设施覆盖率（按区县、按要求）").font = BOLD
    put_at(ws, "A2", f"范围：{regions.labelled(region) if region else '全部'}；判定日期：{on}；"
           f"制表时间（北京时间）：{beijing(datetime.now(UTC).replace(microsecond=0))}；"
           "距离为 WGS 84 椭球面测地线距离，目标取自规则文件")
    table(ws, DISTRICT_HEADERS, districts, start_row=4,
          widths=[22, 22, 14, 12, 10, 10, 8, 10, 60])
    by_school = wb.create_sheet("按学校")
    table(by_school, SCHOOL_HEADERS, schools, widths=[26, 18, 22, 40, 40, 70])
    return wb


def coverage_bytes(session: Session, **kwargs: Any) -> bytes:
    """The 设施覆盖率 workbook as .xlsx bytes (arguments as `coverage_workbook`)."""
    return workbook_bytes(coverage_workbook(session, **kwargs))
