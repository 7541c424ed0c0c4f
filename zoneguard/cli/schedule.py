"""`zoneguard schedule`: nightly rescans on the configured cron expression."""

from __future__ import annotations

import logging
from datetime import datetime

import typer

from zoneguard.cli.common import console, handle_errors, open_engine, settings


@handle_errors
def schedule_command(
    once: bool = typer.Option(False, "--once", help="Run one scheduled scan now and exit"),
    cron: str | None = typer.Option(None, "--cron", help="Override ZONEGUARD_SCAN_CRON"),
) -> None:
    """Run rescans at each fire time of ZONEGUARD_SCAN_CRON (in ZONEGUARD_TIMEZONE)."""
    from zoneguard.services.scan.schedule import next_run, run_once, run_schedule, zone

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = settings()
    tz = zone(cfg.timezone)
    expression = cron or cfg.scan_cron
    next_run(expression, datetime.now(tz))  # refuse a bad expression before connecting
    engine = open_engine()
    try:
        if once:
            outcome = run_once(engine, cfg, clock=lambda: datetime.now(tz))
            console.print(f"scheduled scan {outcome.status}"
                          + (f": {outcome.error}" if outcome.error else ""), highlight=False)
            if outcome.status == "failed":
                raise typer.Exit(1)
            return
        run_schedule(engine, cfg, cron=expression)
    except KeyboardInterrupt:
        console.print("schedule stopped")
    finally:
        engine.dispose()
