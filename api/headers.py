"""Security headers on every response.

CSP for our own pages, no sniffing, no framing, no referrer, and `Cache-Control: no-store`
unless a route chose its own caching (assets, tiles).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from zoneguard.maps.basemaps import basemap_for
from zoneguard.settings import Settings


def _tile_origins(settings: Settings) -> list[str]:
    """Origins the configured basemap loads its images from (`{s}` subdomains as `*`)."""
    origins: list[str] = []
    for layer in basemap_for(settings).tiles:
        parts = urlsplit(str(layer["url"]).replace("{s}", "x"))
        host = parts.hostname or ""
        if "{s}" in str(layer["url"]):
            host = "*." + host.split(".", 1)[1]
        origin = f"{parts.scheme}://{host}"
        if origin not in origins:
            origins.append(origin)
    return origins


def content_security_policy(settings: Settings) -> str:
    """The CSP of every page: scripts only from ZoneGuard, images also from the basemap."""
    images = " ".join(["'self'", "data:", "blob:", *_tile_origins(settings)])
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
        f"img-src {images}", "connect-src 'self'", "font-src 'self' data:",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers added to every response (Cache-Control only where the route set none)."""
    return [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


NO_STORE = (b"cache-control", b"no-store")
