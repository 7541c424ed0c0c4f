"""`zoneguard serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import typer

from zoneguard.cli.common import console, handle_errors, open_engine


@handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", help="Port to listen on"),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes"),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
) -> None:
    """Serve the API (/api/v1, /ogc, /docs) after starting and migrating the database."""
    import uvicorn

    # Start and migrate once here, so that several workers never race to migrate.
    open_engine().dispose()
    console.print(f"ZoneGuard API on http://{host}:{port}/docs (OGC API: /ogc)")
    # A bounded graceful shutdown: a stopped server leaves no worker behind.
    uvicorn.run("api.main:app_factory", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, proxy_headers=True, server_header=False,
                timeout_graceful_shutdown=10)
