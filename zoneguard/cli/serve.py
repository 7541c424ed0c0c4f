"""`zoneguard serve`: the HTTP API under uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import typer

from zoneguard.cli.common import console, handle_errors, open_engine
from zoneguard.errors import ZoneGuardError


@handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", help="Port to listen on"),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes"),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
) -> None:
    """Serve the API (/api/v1, /ogc, /docs) after starting and migrating the database."""
    server = http_server()
    # Start and migrate once here, so that several workers never race to migrate.
    open_engine().dispose()
    console.print(f"ZoneGuard API on http://{host}:{port}/docs (OGC API: /ogc)")
    server(host=host, port=port, workers=workers, log_level=log_level)


def http_server() -> Callable[..., None]:
    """The HTTP server the web layer registers (entry point `zoneguard.server: http`)."""
    found = entry_points(group="zoneguard.server", name="http")
    if not found:
        raise ZoneGuardError("no HTTP server is installed (the api package registers one): "
                             "run pip install -e . in the project (scripts/setup.sh does)")
    server: Callable[..., None] = next(iter(found)).load()
    return server
