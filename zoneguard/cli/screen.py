"""`zoneguard screen`: check a licence application at a point."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings
from zoneguard.labels import METRIC_SHORT, levels_label, limit, metres, verdict_label

if TYPE_CHECKING:
    from zoneguard.services.screening import ScreeningResult

_COLOURS = {"prohibited": "red", "review": "yellow", "allowed": "green"}


def _show(result: ScreeningResult) -> None:
    colour = _COLOURS[result.verdict.value]
    console.print(f"结论：[bold {colour}]{verdict_label(result.verdict)}[/bold {colour}]  "
                  f"（筛查记录 {result.record_id}，规则集 {result.rule_set_version}）")
    if result.conflicts:
        table = Table("学校", "学段", "规则", "测量方式", "测得距离", "规定距离", "结论", "说明")
        for c in result.conflicts:
            table.add_row(
                f"{c.school.school_name}\n{c.school.school_code}", levels_label(c.school.levels),
                c.rule.rule.id, METRIC_SHORT.get(c.metric, c.metric), metres(c.distance_m),
                "—" if c.threshold_m is None else limit(c.threshold_m),
                f"[{_COLOURS[c.verdict.value]}]{verdict_label(c.verdict)}[/]",
                "；".join(c.reasons),
            )
        console.print(table)
        for rule in {c.rule.rule.id: c.rule.rule for c in result.conflicts}.values():
            console.print(f"  {rule.id}（{rule.area or rule.jurisdiction}）：{rule.basis}",
                          highlight=False)
    for reason in result.reasons if not result.conflicts else result.reasons[-1:]:
        console.print(f"  {reason}", highlight=False)


@handle_errors
def screen_command(
    category: str = typer.Option(..., "--category", "-c", help="Premises category"),
    lon: float = typer.Option(..., "--lon", help="Longitude (or x) of the premises"),
    lat: float = typer.Option(..., "--lat", help="Latitude (or y) of the premises"),
    crs: str = typer.Option("wgs84", "--crs", help="EPSG:n, wgs84, cgcs2000, gcj02, bd09"),
    region: str | None = typer.Option(None, "--region", help="GB/T 2260 code of the premises"),
    entrance_lon: float | None = typer.Option(None, "--entrance-lon"),
    entrance_lat: float | None = typer.Option(None, "--entrance-lat"),
    on: str | None = typer.Option(None, "--on", help="Decision date (YYYY-MM-DD), default today"),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Screen a licence application: verdict, conflicting schools, distances, legal basis."""
    from zoneguard.services.screening import screen

    entrance = None
    if (entrance_lon is None) != (entrance_lat is None):
        raise typer.BadParameter("give both --entrance-lon and --entrance-lat, or neither")
    if entrance_lon is not None and entrance_lat is not None:
        entrance = (entrance_lon, entrance_lat)
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(f"--on {on!r} is not a date (YYYY-MM-DD)") from None
    with open_session() as session:
        result = screen(session, category=category, point=(lon, lat), crs=crs, region=region,
                        on=day, entrance=entrance, settings=settings())
    if json_output:
        print_json(result.as_dict())
    else:
        _show(result)
    raise typer.Exit(0)
