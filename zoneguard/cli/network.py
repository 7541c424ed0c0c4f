"""`zoneguard network import|status`: the street network walking distances are routed on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings

app = typer.Typer(help="Walking network (pgRouting) from OSM or surveyed lines.",
                  no_args_is_help=True)


@app.command("import")
@handle_errors
def import_command(
    file: Annotated[Path, typer.Argument(help=".osm, .osm.pbf, GeoJSON, GeoPackage, Shapefile")],
    region: str | None = typer.Option(None, "--region", help="GB/T 2260 code of the network"),
    replace: bool = typer.Option(False, "--replace", help="Replace the region's network"),
    crs: str | None = typer.Option(
        None, "--crs", help="CRS of a line file: EPSG:n, wgs84, cgcs2000, gcj02, bd09"),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer"),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Import a street network in one transaction (all or nothing); see docs/walking.md."""
    from zoneguard.services.ingest.network import import_network

    with console.status(f"reading {file.name} and building the walking network"), \
            open_session() as session:
        result = import_network(session, path=file, region=region, crs=crs, replace=replace,
                                layer=layer, max_bytes=settings().import_max_bytes)
    if json_output:
        print_json(result.as_dict())
        return
    report = result.report
    console.print(f"imported {report['edges']} edges, {report['vertices']} vertices, "
                  f"{report['length_km']} km for region {result.region or '(none)'} "
                  f"(import {result.import_id}"
                  + (f", replaced {result.replaced_edges} edges" if result.replaced_edges else "")
                  + ")")
    console.print(f"  walkable ways {report['ways_walkable']}, blocking barrier points "
                  f"{report['blocking_points']}, fence/wall crossings cut "
                  f"{report['barrier_crossings_cut']}")
    for reason, count in report["excluded"].items():
        console.print(f"  excluded {count}: {reason}", highlight=False)
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/yellow] {warning}", highlight=False)


@app.command("status")
@handle_errors
def status_command(
    json_output: bool = typer.Option(False, "--json", help="Print the status as JSON"),
) -> None:
    """Show the imported walking networks per region."""
    from zoneguard.services.ingest.network import network_status

    with open_session() as session:
        rows = network_status(session)
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("no walking network imported: walking rules answer review")
        return
    table = Table("region", "edges", "vertices", "km", "barriers", "file", "imported")
    for r in rows:
        table.add_row(r["region"] or "—", str(r["edges"]), str(r["vertices"]),
                      f"{r['length_km']:.3f}", str(r["blocking_points"]), r["file"] or "—",
                      r["imported_at"].strftime("%Y-%m-%d %H:%M") if r["imported_at"] else "—")
    console.print(table)
