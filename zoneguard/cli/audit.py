"""`zoneguard audit`: read the audit log, filtered, with times in Beijing time."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings


def _short(value: object, width: int = 60) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


@handle_errors
def audit_command(
    actor: str | None = typer.Option(None, "--actor", help="操作人（用户名、密钥前缀的一部分）"),
    entity: str | None = typer.Option(None, "--entity", help="对象类型，如 finding、premises"),
    entity_id: str | None = typer.Option(None, "--id", help="对象编号（须同时给 --entity）"),
    action: str | None = typer.Option(None, "--action", help="操作，如 finding.assign 或 finding"),
    since: str | None = typer.Option(None, "--since", help="起始时间（北京时间）"),
    until: str | None = typer.Option(None, "--until", help="结束时间（北京时间；日期含当天）"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="条数"),
    offset: int = typer.Option(0, "--offset", min=0, help="跳过条数"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Read the audit log, newest first; times in Asia/Shanghai."""
    from zoneguard.services.access.audit_view import parse_moment, read_audit

    zone = settings().timezone
    with open_session() as session:
        rows, total = read_audit(
            session, timezone=zone, actor=actor, entity=entity, entity_id=entity_id,
            action=action, since=parse_moment(since, zone),
            until=parse_moment(until, zone, end=True), limit=limit, offset=offset)
    if json_output:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    table = Table("时间（北京时间）", "操作人", "操作", "对象", "变更前", "变更后")
    for r in rows:
        table.add_row(f"{r['at']:%Y-%m-%d %H:%M:%S}", r["actor"], r["action"],
                      f"{r['entity']} {r['entity_id'] or ''}".strip(), _short(r["before"]),
                      _short(r["after"]))
    console.print(table)
    console.print(f"第 {offset + 1}–{offset + len(rows)} 条，共 {total} 条", highlight=False)
