"""The `zoneguard` command line."""

from __future__ import annotations

import typer

from zoneguard.cli import db, imports, keys, network, users
from zoneguard.cli import findings as findings_cli
from zoneguard.cli import maps as map_cli
from zoneguard.cli import problems as problems_cli
from zoneguard.cli import reports as report_cli
from zoneguard.cli import rules as rules_cli
from zoneguard.cli.demo import demo_command
from zoneguard.cli.scan import scan_command
from zoneguard.cli.schedule import schedule_command
from zoneguard.cli.screen import screen_command
from zoneguard.cli.serve import serve_command

app = typer.Typer(
    name="zoneguard",
    help="ZoneGuard: school safety-zone enforcement on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(imports.app, name="import")
app.add_typer(network.app, name="network")
app.add_typer(keys.app, name="keys")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(users.app, name="users")
app.command("screen")(screen_command)
app.command("scan")(scan_command)
app.command("findings")(findings_cli.findings_command)
app.add_typer(findings_cli.app, name="finding")
app.add_typer(problems_cli.app, name="problem")
app.command("schedule")(schedule_command)
app.command("serve")(serve_command)
app.add_typer(map_cli.app, name="map")
app.add_typer(report_cli.report_app, name="report")
app.add_typer(report_cli.record_app, name="record")
app.command("export")(report_cli.export_command)
app.command("demo")(demo_command)
