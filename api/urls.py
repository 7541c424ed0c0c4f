"""Absolute URLs of this server, built from a configured base, never from the Host header."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from fastapi import Request
from starlette.types import Scope


def base_of(scope: Scope, configured: str | None) -> str:
    """The configured base URL, else the address the server listens on (no trailing slash)."""
    if configured:
        return configured.rstrip("/")
    host, port = scope.get("server") or ("127.0.0.1", 8000)
    scheme = "https" if scope.get("scheme") == "https" else "http"
    default = {"http": 80, "https": 443}[scheme]
    host = f"[{host}]" if ":" in str(host) else str(host)
    return f"{scheme}://{host}" + ("" if port in (default, None) else f":{port}")


def public_base(request: Request) -> str:
    """ZONEGUARD_PUBLIC_URL, else the address the server listens on (no trailing slash)."""
    return base_of(request.scope, getattr(request.app.state.settings, "public_url", None))


def rebased_location(scope: Scope, location: str, configured: str | None) -> str:
    """A redirect target built from the request's Host header, moved to the public base."""
    parts = urlsplit(location)
    if not parts.scheme or not parts.netloc:
        return location
    return base_of(scope, configured) + urlunsplit(("", "", parts.path, parts.query,
                                                    parts.fragment))


def public_url(request: Request, path: str, query: list[tuple[str, str]] | None = None) -> str:
    """Absolute URL of `path` (from the server root) with an optional query."""
    url = public_base(request) + quote(path, safe="/:@!$&'()*+,;=-._~")
    return f"{url}?{urlencode(query)}" if query else url
