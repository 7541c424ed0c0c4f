"""`zoneguard scan`: rescan the registries against the rules and update the findings."""

from __future__ import annotations

import typer

from zoneguard.cli.common import console, handle_errors, open_engine, print_json, settings
from zoneguard.domain import ScanTrigger


@handle_errors
def scan_command(
    region: str | None = typer.Option(None, "--region", help="Only premises of this GB/T 2260 "
                                      "code (prefix: 42, 4201, 420102)"),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
    wait: bool = typer.Option(False, "--wait", help="Wait for a running scan to finish "
                              "instead of failing"),
    full: bool = typer.Option(False, "--full", help="Measure every pair, even unchanged ones"),
    dask: str | None = typer.Option(None, "--dask", help="Dask scheduler (tcp://host:8786): "
                                    "measure partitions on its workers against the read "
                                    "replicas (default ZONEGUARD_DASK_SCHEDULER)"),
) -> None:
    """Rescan: new, still-open, resolved and reopened findings; one scan at a time."""
    from zoneguard.services.scan.run import run_scan

    engine = open_engine()
    try:
        if json_output:
            summary = run_scan(engine, trigger=ScanTrigger.MANUAL, region=region, wait=wait,
                               full=full, dask=dask, settings=settings())
        else:
            with console.status("scanning…"):
                summary = run_scan(engine, trigger=ScanTrigger.MANUAL, region=region,
                                   wait=wait, full=full, dask=dask, settings=settings())
    finally:
        engine.dispose()
    if json_output:
        print_json(summary.as_dict())
        return
    console.print(f"scan {summary.scan_id} succeeded ({summary.mode}, {summary.pairs} pairs "
                  f"measured, {summary.duration_s:.1f} s, rules {summary.rule_set_version})")
    if summary.partitions:
        console.print(f"  {len(summary.partitions)} partitions measured on read replicas")
    console.print(f"  new:        {summary.new}\n  still open: {summary.open}\n"
                  f"  resolved:   {summary.resolved}\n  reopened:   {summary.reopened}")
