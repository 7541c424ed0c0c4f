"""`zoneguard supervision [order|lift|orders]` and `zoneguard interview add|list`: 督办 and 约谈."""

from __future__ import annotations

from datetime import date
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

supervision_app = typer.Typer(help="督办：黄牌/红牌、督办单、约谈按区县统计；挂牌督办与解除。")
interview_app = typer.Typer(help="约谈：记录与列出。", no_args_is_help=True)


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} 不是日期（YYYY-MM-DD）") from None


def _today() -> date:
    from zoneguard.settings import local_today

    return local_today(settings().timezone)


def _counts_table(counts: dict[str, Any]) -> None:
    table = Table("区县", "黄牌", "红牌", "未解除督办单", "约谈")
    for r in [*counts["districts"], {"district": "合计", **counts["total"]}]:
        table.add_row(r["district"], str(r["yellow"]), str(r["red"]), str(r["open_orders"]),
                      str(r["interviews"]))
    console.print(table)
    span = f"{counts['since'] or '不限'} 至 {counts['until'] or '不限'}"
    console.print(f"统计日 {counts['on']}；约谈时间 {span}", highlight=False)


@supervision_app.callback(invoke_without_command=True)
@handle_errors
def supervision_command(
    ctx: typer.Context,
    region: str | None = typer.Option(None, "--region", help="行政区划代码前缀"),
    since: str | None = typer.Option(None, "--since", help="约谈起始日期 YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--until", help="约谈结束日期 YYYY-MM-DD"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Counts by district: 黄牌 and 红牌 cases, open 督办单, 约谈 held."""
    if ctx.invoked_subcommand is not None:
        return
    from zoneguard.services.cases.supervision_view import supervision_counts

    with open_session() as session:
        counts = supervision_counts(session, today=_today(), region=region,
                                    since=_day(since, "--since"), until=_day(until, "--until"))
    if json_output:
        print_json(counts)
    else:
        _counts_table(counts)


@supervision_app.command("order", help="挂牌督办：为未办结的问题下发督办单")
@handle_errors
def order_command(
    finding_id: int = typer.Argument(..., help="问题编号"),
    number: str = typer.Option(..., "--number", help="督办单编号（唯一）"),
    office: str = typer.Option(..., "--office", help="督办单位"),
    deadline: str = typer.Option(..., "--deadline", help="督办期限 YYYY-MM-DD"),
    requirements: str = typer.Option(..., "--requirements", help="督办要求"),
) -> None:
    """挂牌督办: issue a 督办单 for an open case."""
    from zoneguard.services.cases.supervision import issue_order

    due = _day(deadline, "--deadline")
    assert due is not None
    with open_session() as session:
        order = issue_order(session, finding_id, number=number, office=office, deadline=due,
                            requirements=requirements, caller=operator(), scope=None,
                            today=_today())
        order_id = order.id
    console.print(f"问题 {finding_id} 已挂牌督办：督办单 {number}（编号 {order_id}），"
                  f"期限 {due.isoformat()}", highlight=False)


@supervision_app.command("lift", help="解除督办")
@handle_errors
def lift_command(
    order_id: int = typer.Argument(..., help="督办单编号（数字 id）"),
    comment: str | None = typer.Option(None, "--comment", help="说明"),
) -> None:
    """解除督办: lift an active 督办单."""
    from zoneguard.services.cases.supervision import lift_order

    with open_session() as session:
        order = lift_order(session, order_id, caller=operator(), comment=comment, scope=None,
                           today=_today())
        number, finding = order.number, order.finding_id
    console.print(f"督办单 {number}（问题 {finding}）已解除", highlight=False)


@supervision_app.command("orders", help="列出督办单（最新在前）")
@handle_errors
def orders_command(
    active: bool | None = typer.Option(None, "--active/--lifted", help="只看未解除或已解除的"),
    region: str | None = typer.Option(None, "--region", help="行政区划代码前缀"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List 督办单, newest first."""
    from zoneguard.services.cases.supervision_view import list_orders

    with open_session() as session:
        rows, total = list_orders(session, today=_today(), active=active, region=region,
                                  limit=1000)
    if json_output:
        print_json(rows)
        return
    table = Table("id", "督办单编号", "问题", "区县", "督办单位", "期限", "状态")
    for r in rows:
        state = "已解除" if not r["active"] else ("逾期" if r["overdue"] else "督办中")
        table.add_row(str(r["id"]), r["number"], str(r["finding_id"]), r["district"] or "",
                      r["office"], r["deadline"].isoformat(), state)
    console.print(table)
    console.print(f"共 {total} 份督办单")


@interview_app.command("add", help="记录约谈（可关联一个问题）")
@handle_errors
def interview_add(
    unit: str = typer.Option(..., "--unit", help="约谈对象（单位）"),
    on: str = typer.Option(..., "--on", help="约谈日期 YYYY-MM-DD"),
    participants: str = typer.Option(..., "--participants", help="参加人员"),
    summary: str = typer.Option(..., "--summary", help="约谈内容"),
    finding_id: int | None = typer.Option(None, "--finding", help="所涉问题编号"),
) -> None:
    """Record a 约谈 (about one case, when given)."""
    from zoneguard.services.cases.supervision import record_interview

    held = _day(on, "--on")
    assert held is not None
    with open_session() as session:
        row_id = record_interview(session, unit=unit, held_on=held, participants=participants,
                                  summary=summary, finding_id=finding_id, caller=operator(),
                                  scope=None, today=_today()).id
    console.print(f"已记录约谈 {row_id}：{unit}（{held.isoformat()}）", highlight=False)


@interview_app.command("list", help="列出某段时间内的约谈")
@handle_errors
def interview_list(
    since: str | None = typer.Option(None, "--since", help="起始日期 YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--until", help="结束日期 YYYY-MM-DD"),
    region: str | None = typer.Option(None, "--region", help="行政区划代码前缀"),
    json_output: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List 约谈 held in a date range, latest first."""
    from zoneguard.services.cases.supervision_view import list_interviews

    with open_session() as session:
        rows, total = list_interviews(session, since=_day(since, "--since"),
                                      until=_day(until, "--until"), region=region, limit=1000)
    if json_output:
        print_json(rows)
        return
    table = Table("id", "日期", "约谈对象", "问题", "区县", "参加人员", "内容")
    for r in rows:
        table.add_row(str(r["id"]), r["held_on"].isoformat(), r["unit"],
                      str(r["finding_id"] or "—"), r["district"], r["participants"],
                      r["summary"])
    console.print(table)
    console.print(f"共 {total} 次约谈")
