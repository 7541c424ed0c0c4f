"""The `zoneguard` command line."""

from __future__ import annotations

import typer

from zoneguard.cli import cases as cases_cli
from zoneguard.cli import db, facilities, imports, inspect, keys, network, users
from zoneguard.cli import findings as findings_cli
from zoneguard.cli import maps as map_cli
from zoneguard.cli import problems as problems_cli
from zoneguard.cli import reports as report_cli
from zoneguard.cli import rules as rules_cli
from zoneguard.cli import supervision as supervision_cli
from zoneguard.cli.audit import audit_command
from zoneguard.cli.demo import demo_command
from zoneguard.cli.risk import risk_command
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
findings_cli.app.add_typer(cases_cli.evidence_app, name="evidence")
findings_cli.app.command("measure", help="记录现场测量；本案结论以现场测量为准")(
    cases_cli.measure_command)
app.add_typer(findings_cli.app, name="finding")
app.add_typer(supervision_cli.supervision_app, name="supervision")
app.add_typer(supervision_cli.interview_app, name="interview")
app.command("audit", help="查阅审计日志（北京时间）")(audit_command)
app.add_typer(problems_cli.app, name="problem")
app.command("schedule")(schedule_command)
app.command("serve")(serve_command)
app.add_typer(map_cli.app, name="map")
app.add_typer(report_cli.report_app, name="report")
app.add_typer(report_cli.record_app, name="record")
app.command("export")(report_cli.export_command)
app.command("demo")(demo_command)
app.add_typer(facilities.facility_app, name="facility")
app.add_typer(facilities.requirements_app, name="requirements")
app.command("coverage")(facilities.coverage_command)
app.command("risk")(risk_command)
app.add_typer(inspect.app, name="inspect")
