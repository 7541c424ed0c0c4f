"""`zoneguard demo`: bring the whole product up on the sample city and say what to open."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from zoneguard.cli.common import console, handle_errors, settings
from zoneguard.cli.serve import http_server

if TYPE_CHECKING:
    from zoneguard.demo import DemoResult


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _report(result: DemoResult, base: str) -> None:
    from zoneguard.demo import curl_example

    s = result.scan
    console.print(f"\n[bold]ZoneGuard demo[/bold] — scan {s.scan_id}: {s.new} new, {s.open} "
                  f"still open, {s.resolved} resolved, {s.reopened} reopened "
                  f"({s.duration_s:.1f} s)")
    console.print(f"  city map (file):   {result.city_map}", soft_wrap=True)
    console.print(f"  一校一表 ({result.school_code}): {result.school_sheet}")
    console.print(f"  city map (live):   {base}/maps/city?region=4301&api_key={result.key}",
                  soft_wrap=True)
    console.print(f"  API docs:          {base}/docs")
    console.print(f"  OGC API (QGIS):    {base}/ogc?api_key={result.key}", soft_wrap=True)
    console.print(f"  admin key:         {result.key}  (also in {result.out_dir}/admin-key.txt)")
    console.print(f"  workbench:         {base}/login  user {result.login[0]}  password "
                  f"{result.login[1]}  (also in {result.out_dir}/workbench-login.txt)",
                  highlight=False, soft_wrap=True)
    console.print("\nExample screenings:")
    for example in result.examples:
        console.print(f"  # expect [bold]{example['verdict']}[/bold]: {example['why']}",
                      highlight=False)
        console.print(f"  {curl_example(base, result.key, example)}", highlight=False,
                      soft_wrap=True)


@handle_errors
def demo_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address of the demo API"),
    port: int = typer.Option(8000, "--port", help="Port of the demo API (a free one if busy)"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the API at the end"),
) -> None:
    """Run the demo: embedded PostGIS, sample data, rules, scan, map, 一校一表, key, API."""
    from zoneguard.db.ready import ready_engine
    from zoneguard.demo import prepare

    cfg = settings()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("starting the embedded PostGIS and migrating", total=None)
        engine = ready_engine(cfg)

        def step(label: str) -> None:
            progress.update(task, description=label)

        try:
            result = prepare(engine, cfg, step)
        finally:
            engine.dispose()
        progress.update(task, description="ready")
    if serve and not _free(host, port):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        console.print(f"port busy; using {port}")
    base = f"http://{host}:{port}"
    _report(result, base)
    if not serve:
        return
    server = http_server()
    console.print(f"\nServing on {base} — Ctrl-C to stop.")
    server(host=host, port=port, log_level="warning")
