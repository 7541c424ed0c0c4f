"""`zoneguard problem report|categories`: register a problem seen near a school; its categories."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    pass

app = typer.Typer(help="Problems no licence scan finds (无证流动摊点, 占道经营, 违停 …): "
                       "register one near a school; list the categories.",
                  no_args_is_help=True)


@app.command("report")
@handle_errors
def report_command(
    category: str = typer.Option(..., "--category", help="Category code (see `problem "
                                 "categories`), e.g. street_vendor"),
    lon: float = typer.Option(..., "--lon", help="Longitude (or x) of the problem"),
    lat: float = typer.Option(..., "--lat", help="Latitude (or y) of the problem"),
    crs: str = typer.Option("EPSG:4326", "--crs", help="EPSG:n, wgs84, cgcs2000, gcj02, bd09"),
    description: str = typer.Option(..., "--description", help="What was seen, where, when"),
    school: str | None = typer.Option(None, "--school", help="School code (default: the "
                                      "nearest open school within 500 m)"),
    json_output: bool = typer.Option(False, "--json", help="Print the case as JSON"),
) -> None:
    """Register a problem as a new case (发现) as this machine's user (who is recorded)."""
    from zoneguard.services.cases.findings import get_finding
    from zoneguard.services.cases.problems import register_problem
    from zoneguard.settings import local_today

    cfg = settings()
    today = local_today(cfg.timezone)
    with open_session() as session:
        finding = register_problem(
            session, caller=operator(), category=category, lon=lon,
            lat=lat, crs=crs, description=description, school_code=school, today=today,
            settings=cfg)
        data = get_finding(session, finding.id, today=today)
    if json_output:
        print_json(data)
        return
    console.print(f"已登记问题 {data['id']}：{data['school_name']}（{data['school_code']}），"
                  f"距校园 {data['distance_m']:.1f} 米，回头看日期 {data['review_on']}",
                  highlight=False)
    for reason in data["reasons"]:
        console.print(f"  - {reason}", highlight=False)


@app.command("categories")
@handle_errors
def categories_command(
    json_output: bool = typer.Option(False, "--json", help="Print the categories as JSON"),
) -> None:
    """The categories of hand-registered problems: code, 中文名, 责任单位, 回头看 days."""
    from zoneguard.problem_categories import catalogue

    loaded = catalogue(settings().effective_problems_file)
    if json_output:
        print_json({"version": loaded.version, "items": [c.public() for c in loaded.categories]})
        return
    table = Table("代码", "类别", "默认责任单位", "回头看（天）", "依据")
    for c in loaded.categories:
        table.add_row(c.code, c.name, c.unit, str(c.lookback_days),
                      c.citation.display() if c.citation else "")
    console.print(table)
