"""`zoneguard screen`: check a licence application at a point."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from zoneguard.cli.common import console, handle_errors, open_session, print_json
from zoneguard.services.screening import ScreeningResult, screen

_COLOURS = {"prohibited": "red", "review": "yellow", "allowed": "green"}


def _show(result: ScreeningResult) -> None:
    colour = _COLOURS[result.verdict.value]
    console.print(f"verdict: [bold {colour}]{result.verdict.value}[/bold {colour}]  "
                  f"(record {result.record_id}, rules {result.rule_set_version})")
    if not result.conflicts:
        for reason in result.reasons:
            console.print(f"  {reason}")
        return
    table = Table("school", "levels", "rule", "metric", "distance", "limit", "verdict", "why")
    for c in result.conflicts:
        table.add_row(
            f"{c.school.school_name}\n{c.school.school_code}", ", ".join(c.school.levels),
            c.rule.rule.id, c.metric,
            "—" if c.distance_m is None else f"{c.distance_m:.2f} m",
            "—" if c.threshold_m is None else f"{c.threshold_m:g} m",
            f"[{_COLOURS[c.verdict.value]}]{c.verdict.value}[/]", "; ".join(c.reasons),
        )
    console.print(table)
    for c in result.conflicts:
        console.print(f"  {c.rule.rule.id}: {c.rule.rule.basis}", highlight=False)


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
                        on=day, entrance=entrance)
    if json_output:
        print_json(result.as_dict())
    else:
        _show(result)
    raise typer.Exit(0)
