"""Absolute URLs of this server, built from a configured base, never from the Host header."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request


def public_base(request: Request) -> str:
    """ZONEGUARD_PUBLIC_URL, else the address the server listens on (no trailing slash)."""
    configured = getattr(request.app.state.settings, "public_url", None)
    if configured:
        return str(configured).rstrip("/")
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    scheme = "https" if request.scope.get("scheme") == "https" else "http"
    default = {"http": 80, "https": 443}[scheme]
    host = f"[{host}]" if ":" in str(host) else str(host)
    return f"{scheme}://{host}" + ("" if port in (default, None) else f":{port}")


def public_url(request: Request, path: str, query: list[tuple[str, str]] | None = None) -> str:
    """Absolute URL of `path` (from the server root) with an optional query."""
    url = public_base(request) + quote(path, safe="/:@!$&'()*+,;=-._~")
    return f"{url}?{urlencode(query)}" if query else url
