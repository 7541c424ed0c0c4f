"""Links of the OGC API: absolute, and carrying `api_key` for clients that cannot send headers."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def ogc_root(request: Request) -> str:
    """Absolute URL of the OGC API landing page (no trailing slash)."""
    return str(request.base_url).rstrip("/") + "/ogc"


def href(request: Request, path: str, **params: object) -> str:
    """Absolute URL of `path` (from the server root) with query parameters and the caller's key."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    api_key = request.query_params.get("api_key")
    if api_key:
        query["api_key"] = api_key
    base = str(request.base_url).rstrip("/") + path
    return f"{base}?{urlencode(query)}" if query else base


def link(request: Request, path: str, rel: str, type_: str, title: str | None = None,
         **params: object) -> dict[str, str]:
    """One link object."""
    out = {"href": href(request, path, **params), "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out
