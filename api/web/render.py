"""Rendering of workbench pages: Jinja2 (autoescaped), Beijing time, page security headers."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from zoneguard.maps import style
from zoneguard.maps.basemaps import basemap_for
from zoneguard.settings import Settings

HERE = Path(__file__).resolve().parent
BEIJING = ZoneInfo("Asia/Shanghai")
VERDICT_TEXT = {"prohibited": "不符合距离要求", "review": "需复核",
                "allowed": "未发现距离冲突（仅距离初筛）"}
MODE_TEXT = {"new": "新办", "renew": "延续", "change": "变更"}


def beijing(value: datetime | None, fmt: str = "%Y年%m月%d日 %H:%M:%S") -> str:
    """A timestamp in Beijing time, written the Chinese way ('—' when missing)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(BEIJING).strftime(fmt)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment: every value HTML-escaped unless a template says otherwise."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(beijing=beijing, category=style.category_label,
                       metric=style.metric_label, distance=style.distance_text,
                       verdict=lambda v: VERDICT_TEXT.get(v, v), mode=MODE_TEXT.get,
                       state=style.state_label)
    return env


def _tile_hosts(settings: Settings) -> str:
    hosts = set()
    for layer in basemap_for(settings).tiles:
        parts = urlsplit(layer["url"])
        host = parts.hostname or ""
        if "{s}" in host:
            host = "*." + host.split(".", 1)[1]
        hosts.add(f"{parts.scheme}://{host}")
    return " ".join(sorted(hosts))


def security_headers(settings: Settings) -> dict[str, str]:
    """Headers of every workbench page: strict CSP (no inline script), no framing, no caching."""
    img = f"'self' data: blob: {_tile_hosts(settings)}".strip()
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; "
           f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return {"Content-Security-Policy": csp, "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store"}


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page from a template, with the page security headers."""
    settings: Settings = request.app.state.settings
    html = environment().get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code, headers=security_headers(settings))


def render_text(template: str, **context: Any) -> str:
    """The HTML of a template (for printing to PDF)."""
    return environment().get_template(template).render(**context)


def is_https(request: Request) -> bool:
    """Whether the person reaches the workbench over HTTPS (cookies are then Secure)."""
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")
