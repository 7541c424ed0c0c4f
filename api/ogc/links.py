"""Links of the OGC API: absolute, from ZONEGUARD_PUBLIC_URL, and never carrying a key.

GIS clients resend the credentials they were configured with on every request they make,
links included: QGIS its authentication configuration, GDAL the `GDAL_HTTP_HEADERS` option
(`Authorization: Bearer zg_…`). A key in a link would only leak into logs and documents.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from api.urls import public_base

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def ogc_root(request: Request) -> str:
    """Absolute URL of the OGC API landing page (no trailing slash)."""
    return public_base(request) + "/ogc"


def href(request: Request, path: str, **params: object) -> str:
    """Absolute URL of `path` (from the server root) with query parameters."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    base = public_base(request) + path
    return f"{base}?{urlencode(query)}" if query else base


def link(request: Request, path: str, rel: str, type_: str, title: str | None = None,
         **params: object) -> dict[str, str]:
    """One link object."""
    out = {"href": href(request, path, **params), "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out
