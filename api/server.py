"""Run the HTTP app under uvicorn: the `http` server that `zoneguard serve` starts.

It is registered as the entry point `http` of the group `zoneguard.server` (pyproject), so
the domain's command line starts the web layer without importing it.
"""

from __future__ import annotations


def run(*, host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Serve `api.main:app_factory` until stopped (a bounded graceful shutdown: no orphans)."""
    import uvicorn

    uvicorn.run("api.main:app_factory", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, proxy_headers=True, server_header=False,
                timeout_graceful_shutdown=10)
