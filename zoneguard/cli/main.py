"""The `zoneguard` command line."""

from __future__ import annotations

import typer

from zoneguard.cli import db, imports, keys, network
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
app.command("screen")(screen_command)
app.command("serve")(serve_command)
