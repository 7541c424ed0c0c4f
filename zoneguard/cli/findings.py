"""`zoneguard findings` (list, filter, export) and `zoneguard finding show|act|workflow`."""

from __future__ import annotations

import sys
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
from zoneguard.domain import FindingState
from zoneguard.labels import STATE_LABELS
from zoneguard.services.cases.flow import ACTIONS, LOOP_WORDS, describe

app = typer.Typer(help="One finding: show it, act on it in the case loop, see the loop.",
                  no_args_is_help=True)
_COLOURS = {"prohibited": "red", "review": "yellow", "allowed": "green"}


def _date(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _metres(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} m"


def _distances(row: dict[str, Any]) -> str:
    """The computed distance, and the field one beside it when measured on site."""
    field = row.get("field_distance_m")
    return _metres(row["distance_m"]) + ("" if field is None else f"\n现场 {_metres(field)}")
def _subject(row: dict[str, Any]) -> str:
    """The premises of a scan finding, or the description of a registered problem."""
    if row["premises_id"] is None:
        return f"（登记）{row['description'] or ''}"
    return f"{row['premises_name']}\n{row['licence_no']}"


def _table(rows: list[dict[str, Any]], total: int) -> None:
    table = Table("id", "state", "verdict", "school", "premises", "category", "rule",
                  "distance", "assignee", "deadline", "licence expires")
    for r in rows:
        deadline = "" if r["deadline"] is None else r["deadline"].isoformat()
        table.add_row(
            str(r["id"]), r["state"], f"[{_COLOURS[r['verdict']]}]{r['verdict']}[/]",
            f"{r['school_name']}\n{r['school_code']}", _subject(r),
            r["category"], r["rule_id"], _distances(r), r["assignee"] or "",
            f"[red]{deadline} overdue[/]" if r["overdue"] else deadline,
            ("存量 " if r["existing"] else "") + (r["expires_on"].isoformat()
                                                 if r["expires_on"] else ""))
    console.print(table)
    console.print(f"{len(rows)} of {total} findings")


@handle_errors
def findings_command(
    state: str | None = typer.Option(None, "--state", help="found, reported, assigned, "
                                     "rectifying, to_accept, accepted, closed, proposed, "
                                     "unfounded, retained, special, resolved; or active / "
                                     "closed (all closings)"),
    verdict: str | None = typer.Option(None, "--verdict", help="prohibited or review"),
    category: str | None = typer.Option(None, "--category", help="Premises category"),
    region: str | None = typer.Option(None, "--region", help="Premises region code prefix"),
    school: str | None = typer.Option(None, "--school", help="School code"),
    overdue: bool = typer.Option(False, "--overdue", help="Only open cases past deadline"),
    existing: bool | None = typer.Option(None, "--existing/--not-existing",
                                         help="Only 存量 premises (licensed before the school "
                                         "or the rule), or only the others"),
    expiring: int | None = typer.Option(None, "--expiring", min=0, metavar="DAYS",
                                        help="Expiry work list (到期不予延续): open 存量 cases "
                                        "whose licence ends within DAYS, soonest first"),
    lookback: bool = typer.Option(False, "--lookback", help="回头看 list: 反弹 cases not "
                                  "closed again, and registered problems whose review day "
                                  "has come (closed ones too), soonest first"),
    fmt: str = typer.Option("table", "--format", help="table|json|csv|geojson"),
    labels: str = typer.Option("en", "--labels", help="en (codes) | zh (Chinese, for people)"),
    limit: int | None = typer.Option(None, "--limit", min=0),
    offset: int = typer.Option(0, "--offset", min=0),
) -> None:
    """List findings with filters, as a table or as JSON, CSV or GeoJSON on standard output."""
    from zoneguard.reports.finding_files import FORMATS, export
    from zoneguard.services.cases.findings import list_findings
    from zoneguard.settings import local_today

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    with open_session() as session:
        rows, total = list_findings(session, state=state, verdict=verdict, category=category,
                                    region=region, school=school, overdue=overdue,
                                    existing=existing, expiring_within_days=expiring,
                                    lookback=lookback, limit=limit, offset=offset,
                                    today=local_today(settings().timezone))
    if fmt == "table":
        _table(rows, total)
    else:
        sys.stdout.write(export(rows, fmt, labels) + "\n")


def _show(data: dict[str, Any]) -> None:
    console.print(f"finding {data['id']}: [bold]{data['state']}[/bold] — "
                  f"[{_COLOURS[data['verdict']]}]{data['verdict']}[/] under {data['rule_id']} "
                  f"({data['metric']}, {_metres(data['distance_m'])} of "
                  f"{_metres(data['threshold_m'])})", highlight=False)
    console.print(f"  school:   {data['school_name']} ({data['school_code']})", highlight=False)
    if data["premises_id"] is None:
        console.print(f"  problem:  {data['category']} — {data['description']} "
                      f"(回头看 {data['review_on']})", highlight=False)
    else:
        console.print(f"  premises: {data['premises_name']} ({data['category']}, licence "
                      f"{data['licence_no']}, region {data['premises_region']})",
                      highlight=False)
    if data.get("field_distance_m") is not None:
        console.print(f"  现场测量: {_metres(data['field_distance_m'])}，本案结论 "
                      f"{data['effective_verdict']}（以现场测量为准）", highlight=False)
    for reason in data["reasons"]:
        console.print(f"  - {reason}", highlight=False)
    for e in data.get("evidence", []):
        console.print(f"  证据 {e['id']}: {e['filename']}（{e['media_type']}，{e['size_bytes']} "
                      f"字节，sha256 {e['sha256'][:16]}…，{e['uploaded_by']}）", highlight=False)
    if data["assignee"] or data["deadline"]:
        console.print(f"  assignee: {data['assignee'] or '—'}, deadline: "
                      f"{data['deadline'] or '—'}{' (overdue)' if data['overdue'] else ''}")
    if data["resolution"]:
        console.print(f"  resolution: {data['resolution']}", highlight=False)
    table = Table("when", "who", "from → to", "comment", "evidence")
    for e in data["events"]:
        table.add_row(f"{e['at']:%Y-%m-%d %H:%M}", e["actor"],
                      f"{e['from_state'] or '·'} → {e['to_state']}", e["comment"] or "",
                      e["evidence"] or "")
    console.print(table)


@app.command("show")
@handle_errors
def show(
    finding_id: int = typer.Argument(..., help="Finding id"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Show a finding with its measured conflict and its workflow history."""
    from zoneguard.services.cases.findings import get_finding
    from zoneguard.settings import local_today

    with open_session() as session:
        data = get_finding(session, finding_id, today=local_today(settings().timezone))
    if json_output:
        print_json(data)
    else:
        _show(data)


@app.command("act")
@handle_errors
def act_command(
    finding_id: int = typer.Argument(..., help="Finding id"),
    action: str = typer.Argument(..., help="report, assign, start, submit, reject, accept, "
                                 "close, propose, approve, decline (see `finding workflow`)"),
    comment: str | None = typer.Option(None, "--comment", help="What was done or checked"),
    unit: str | None = typer.Option(None, "--unit", help="Responsible unit (交办)"),
    deadline: str | None = typer.Option(None, "--deadline", help="Rectification deadline "
                                        "(交办), YYYY-MM-DD"),
    closing: str | None = typer.Option(None, "--closing", help="Closing proposed: unfounded, "
                                       "retained, special"),
) -> None:
    """Take one step of the case loop as this machine's user (who is recorded)."""
    from zoneguard.services.cases.workflow import act
    from zoneguard.settings import local_today

    cfg = settings()
    with open_session() as session:
        finding = act(session, finding_id, action=action, caller=operator(), comment=comment,
                      assignee=unit, deadline=_date(deadline, "--deadline"), closing=closing,
                      today=local_today(cfg.timezone), settings=cfg)
        state = FindingState(finding.state)
    console.print(f"问题 {finding_id}：{STATE_LABELS[state]}", highlight=False)


@app.command("workflow")
@handle_errors
def workflow_command(
    json_output: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The case loop: states, actions, roles allowed and what each action needs."""
    described = describe()
    if json_output:
        print_json(described)
        return
    console.print(" → ".join(LOOP_WORDS))
    table = Table("操作", "名称", "从", "到", "角色", "需要")
    names = {s.value: STATE_LABELS[s] for s in FindingState}
    for a in ACTIONS:
        table.add_row(a.code, a.label, "、".join(names[s.value] for s in a.sources),
                      "（按提议）" if a.target is None else names[a.target.value],
                      ", ".join(sorted(r.value for r in a.roles)),
                      ", ".join(n.value for n in a.needs))
    console.print(table)
