"""`zoneguard finding evidence add|list` and `zoneguard finding measure`: a case's evidence."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from zoneguard.cli.common import (
    console,
    handle_errors,
    open_session,
    operator,
    print_json,
    settings,
)

evidence_app = typer.Typer(help="证据材料：上传照片或 PDF（按内容核验类型），列出。",
                           no_args_is_help=True)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} 不是日期（YYYY-MM-DD）") from None


def _evidence_table(rows: list[dict[str, Any]]) -> None:
    table = Table("编号", "文件名", "类型", "大小（字节）", "SHA-256", "上传人", "上传时间")
    for r in rows:
        table.add_row(str(r["id"]), r["filename"], r["type_name"], str(r["size_bytes"]),
                      r["sha256"], r["uploaded_by"], f"{r['uploaded_at']:%Y-%m-%d %H:%M}")
    console.print(table)


@evidence_app.command("add", help="上传照片或 PDF 作为问题的证据材料")
@handle_errors
def add_command(
    finding_id: int = typer.Argument(..., help="问题编号"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="JPEG、PNG、WebP 照片或 PDF"),
    note: str | None = typer.Option(None, "--note", help="说明"),
) -> None:
    """Upload a photo or PDF as evidence of a case (recorded as this machine's user)."""
    from zoneguard.services.cases.evidence import add_evidence, as_dict

    cfg = settings()
    with open_session() as session, file.open("rb") as stream:
        row = as_dict(add_evidence(session, finding_id, stream=stream, filename=file.name,
                                   media_type=None, note=note, caller=operator(), scope=None,
                                   settings=cfg))
    console.print(f"问题 {finding_id}：已保存证据材料 {row['id']}（{row['type_name']}，"
                  f"{row['size_bytes']} 字节，sha256 {row['sha256']}）", highlight=False)


@evidence_app.command("list", help="列出问题的证据材料")
@handle_errors
def list_command(
    finding_id: int = typer.Argument(..., help="问题编号"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List the evidence of a case, oldest first."""
    from zoneguard.services.cases.evidence import list_evidence

    with open_session() as session:
        rows = list_evidence(session, finding_id)
    if json_output:
        print_json(rows)
    elif not rows:
        console.print(f"问题 {finding_id} 尚无证据材料")
    else:
        _evidence_table(rows)


@handle_errors
def measure_command(
    finding_id: int = typer.Argument(..., help="问题编号"),
    distance: float = typer.Option(..., "--distance", help="现场测得距离（米）"),
    method: str = typer.Option(..., "--method", help="卷尺、测距轮、激光测距仪 或 GNSS"),
    instrument: str = typer.Option(..., "--instrument", help="测量仪器（型号、编号）"),
    measurers: list[str] = typer.Option(..., "--measurer", help="测量人员（两名，各写一次）"),
    on: str = typer.Option(..., "--on", help="测量日期 YYYY-MM-DD"),
    photo: int | None = typer.Option(None, "--photo", help="同一问题的现场照片（证据编号）"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Record a distance measured on site; the case's verdict follows it."""
    from zoneguard.services.cases.field import FIELD_VERDICT_LABELS, as_dict, record_measurement
    from zoneguard.settings import local_today

    cfg = settings()
    with open_session() as session:
        row = as_dict(record_measurement(
            session, finding_id, distance_m=distance, method=method, instrument=instrument,
            measurers=measurers, measured_on=_day(on, "--on"), evidence_id=photo,
            caller=operator(), scope=None, today=local_today(cfg.timezone), settings=cfg))
    if json_output:
        print_json(row)
        return
    console.print(f"问题 {finding_id}：现场测量 {row['distance_m']:.2f} 米，"
                  f"{FIELD_VERDICT_LABELS[row['verdict']]}；本案结论以现场测量为准",
                  highlight=False)
