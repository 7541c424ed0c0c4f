"""District summary workbook: counts per district, overdue findings, trend across scans.

Counts are by district × category × verdict × state of the findings (district = the
premises' region code, shown with its name). Scan times are Beijing time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.cells import put_at
from zoneguard.maps import style
from zoneguard.maps.data import ACTIVE_STATES
from zoneguard.reports.human import SCAN_STATUS_LABELS, TRIGGER_LABELS, beijing
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes
from zoneguard.settings import local_today

_COUNTS = """
SELECT NULLIF(p.region, '') AS district, p.category, f.verdict, f.state, count(*) AS n
FROM finding f JOIN premises p ON p.id = f.premises_id
WHERE (CAST(:region AS text) IS NULL OR starts_with(p.region, CAST(:region AS text)))
  AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
GROUP BY 1, 2, 3, 4 ORDER BY 1 NULLS LAST, 2, 3, 4
"""

_OVERDUE = """
SELECT f.id, NULLIF(p.region, '') AS district, p.name AS premises, p.licence_no, p.category,
       s.name AS school, f.verdict, f.distance_m, f.state, f.assignee, f.step_due AS deadline,
       (:today - f.step_due) AS days_over
FROM finding f JOIN premises p ON p.id = f.premises_id JOIN school s ON s.id = f.school_id
WHERE f.step_due < :today AND f.state = ANY(CAST(:active AS text[]))
  AND (CAST(:region AS text) IS NULL OR starts_with(p.region, CAST(:region AS text)))
  AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
ORDER BY f.step_due, f.id
"""

_SCANS = """
SELECT id, trigger, region, status, started_at, finished_at, new, still_open, resolved,
       reopened, pairs, rule_set_version
FROM scan
WHERE CAST(:region AS text) IS NULL OR region IS NULL
   OR starts_with(CAST(:region AS text), region) OR starts_with(region, CAST(:region AS text))
ORDER BY started_at DESC, id DESC LIMIT :limit
"""

COUNT_HEADERS = ("区划", "类别", "结论", "处置状态", "数量")
PIVOT_HEADERS = ("区划", "问题总数", "禁止", "需复核", "未办结", "已办结/豁免/消除", "逾期")
OVERDUE_HEADERS = ("问题编号", "区划", "场所", "许可证号", "类别", "学校", "结论", "距离（米）",
                   "处置状态", "责任人", "整改期限", "逾期天数")
TREND_HEADERS = ("扫描编号", "触发方式", "范围", "状态", "开始时间（北京时间）",
                 "结束时间（北京时间）", "新增",
                 "仍未解决", "自动解除", "重新出现", "测距对数", "规则集版本")


def _pivot(counts: list[dict[str, Any]], overdue: list[dict[str, Any]]) -> list[list[Any]]:
    districts: dict[str | None, list[int]] = {}
    for row in counts:
        agg = districts.setdefault(row["district"], [0, 0, 0, 0, 0])
        agg[0] += row["n"]
        agg[1] += row["n"] if row["verdict"] == "prohibited" else 0
        agg[2] += row["n"] if row["verdict"] == "review" else 0
        agg[3] += row["n"] if row["state"] in ACTIVE_STATES else 0
        agg[4] += row["n"] if row["state"] not in ACTIVE_STATES else 0
    late: dict[str | None, int] = {}
    for row in overdue:
        late[row["district"]] = late.get(row["district"], 0) + 1
    out = [[regions.labelled(d) or "（未知）", *agg, late.get(d, 0)]
           for d, agg in districts.items()]
    totals = [sum(col) for col in zip(*(r[1:] for r in out), strict=False)] or [0] * 6
    return [*out, ["合计", *totals]]


def summary_workbook(
    session: Session, *, region: str | None = None, categories: list[str] | None = None,
    on: date | None = None, last_scans: int = 10,
) -> Workbook:
    """The district summary: 分区汇总, 分类明细, 逾期问题 and 扫描趋势 sheets."""
    today = on or local_today()
    params = {"region": region, "categories": categories, "today": today,
              "active": list(ACTIVE_STATES), "limit": last_scans}
    counts = [dict(r) for r in session.execute(text(_COUNTS), params).mappings()]
    overdue = [dict(r) for r in session.execute(text(_OVERDUE), params).mappings()]
    scans = [dict(r) for r in session.execute(text(_SCANS), params).mappings()]
    wb = Workbook()
    pivot = wb.active
    pivot.title = "分区汇总"
    where = regions.full_name(region) if region else "全部区划"
    title = f"学校周边安全区域问题汇总（{where}，截至 {today.isoformat()}）"
    put_at(pivot, "A1", title).font = BOLD
    table(pivot, PIVOT_HEADERS, _pivot(counts, overdue), start_row=3,
          widths=[18, 10, 8, 8, 8, 16, 8])
    table(wb.create_sheet("分类明细"), COUNT_HEADERS, (
        [regions.labelled(r["district"]) or "（未知）", style.category_label(r["category"]),
         style.verdict_label(r["verdict"]), style.state_label(r["state"]), r["n"]]
        for r in counts), widths=[12, 22, 10, 16, 8])
    table(wb.create_sheet("逾期问题"), OVERDUE_HEADERS, (
        [r["id"], regions.labelled(r["district"]), r["premises"], r["licence_no"],
         style.category_label(r["category"]), r["school"], style.verdict_label(r["verdict"]),
         None if r["distance_m"] is None else round(r["distance_m"], 1),
         style.state_label(r["state"]), r["assignee"], r["deadline"], r["days_over"]]
        for r in overdue), widths=[10, 10, 24, 16, 16, 20, 10, 10, 14, 10, 12, 10])
    table(wb.create_sheet("扫描趋势"), TREND_HEADERS, (
        [r["id"], TRIGGER_LABELS.get(r["trigger"], r["trigger"]),
         regions.labelled(r["region"]) or "全部",
         SCAN_STATUS_LABELS.get(r["status"], r["status"]), beijing(r["started_at"]),
         beijing(r["finished_at"]), r["new"], r["still_open"], r["resolved"], r["reopened"],
         r["pairs"],
         r["rule_set_version"]] for r in reversed(scans)),
        widths=[10, 10, 16, 10, 20, 20, 8, 10, 8, 10, 10, 22])
    return wb


def summary_bytes(session: Session, **kwargs: Any) -> bytes:
    """The district summary as .xlsx bytes (arguments as `summary_workbook`)."""
    return workbook_bytes(summary_workbook(session, **kwargs))
