"""双随机 公示 workbook: a draw's inspection list with what anyone needs to re-draw it."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.cells import put_at
from zoneguard.errors import NotFound
from zoneguard.labels import category_label
from zoneguard.models import InspectionDraw
from zoneguard.reports.human import beijing
from zoneguard.reports.xlsx import BOLD, table, workbook_bytes
from zoneguard.services import inspections as ins

HEADERS = ("检查编号", "场所名称", "许可证号", "类别", "区划", "检查人员", "截止日期")


def publicity_workbook(session: Session, draw_id: int) -> Workbook:
    """The 公示 list of a draw: its seed, population, time, and every inspection."""
    record = session.get(InspectionDraw, draw_id)
    if record is None:
        raise NotFound(f"抽取 {draw_id} 不存在")
    reproduced = ins.redraw(session, draw_id) == ins.drawn(session, draw_id)
    rows: list[list[Any]] = [
        [r["检查编号"], r["场所名称"], r["许可证号"], category_label(r["类别"]),
         regions.labelled(r["区划"]) if r["区划"] else "—", r["检查人员"], r["截止日期"]]
        for r in ins.publicity(session, draw_id)]
    wb = Workbook()
    ws = wb.active
    ws.title = "双随机抽查公示"
    put_at(ws, "A1", f"“双随机”抽查名单公示（抽取 #{draw_id}）").font = BOLD
    weighted = "按学校风险等级加权" if record.parameters.get("weights") else "等概率"
    put_at(ws, "A2", f"抽取时间（北京时间）：{beijing(record.drawn_at)}；随机种子：{record.seed}；"
           f"抽样总体 {record.population_size} 家（摘要 {record.population_hash[:16]}）；"
           f"抽取方式：按类别、区县分层，{weighted}；以同一种子重抽"
           f"{'结果一致' if reproduced else '结果不一致，请核查'}")
    table(ws, HEADERS, rows, start_row=4, widths=[10, 30, 18, 22, 22, 44, 12])
    return wb


def publicity_bytes(session: Session, draw_id: int) -> bytes:
    """The 公示 workbook as .xlsx bytes."""
    return workbook_bytes(publicity_workbook(session, draw_id))
