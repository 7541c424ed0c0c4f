"""The map page: a JSON spec of layers rendered into HTML that loads Leaflet from ZoneGuard.

Nothing from the data is written into HTML or JavaScript source: the spec is JSON inside a
`<script type="application/json">` element (with `<`, `>`, `&` escaped), and the page script
puts every value into popups and tooltips as text nodes, so a name like
`<img src=x onerror=alert(1)>` is shown as text.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from zoneguard.maps import assets
from zoneguard.maps.basemaps import Basemap
from zoneguard.settings import Settings

ASSETS_URL = "/assets"


def spec_json(spec: dict[str, Any]) -> str:
    """The spec as JSON safe inside an HTML <script> element."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def new_spec(title: str, basemap: Basemap) -> dict[str, Any]:
    """An empty map spec: title, basemap, no layers."""
    return {"title": title, "basemap": basemap.as_spec(), "overlays": [], "legend": [],
            "filters": None, "bounds": None, "notice": None, "summary": {}}


def render_page(
    spec: dict[str, Any], *, standalone: bool = False, settings: Settings | None = None,
    assets_url: str = ASSETS_URL,
) -> str:
    """HTML of a map page; `standalone` inlines the libraries (a file that works offline)."""
    tiles = any(layer.get("type") == "tiles" for layer in spec["overlays"])
    scripts = [*assets.JS[:-1], *([assets.TILES_JS] if tiles else []), assets.JS[-1]]
    if standalone:
        head = "".join(f"<style>{assets.inline_css(name, settings)}</style>"
                       for name in assets.CSS)
        body = "".join(f"<script>{assets.inline_js(name, settings)}</script>" for name in scripts)
    else:
        assets.check_installed(settings)
        head = "".join(f'<link rel="stylesheet" href="{escape(assets_url)}/{name}">'
                       for name in assets.CSS)
        body = "".join(f'<script src="{escape(assets_url)}/{name}"></script>' for name in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(spec['title'])}</title>{head}</head>"
        '<body><div id="map" role="application" aria-label="地图"></div>'
        f'<script type="application/json" id="zg-spec">{spec_json(spec)}</script>'
        f"{body}</body></html>\n"
    )
