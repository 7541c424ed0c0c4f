"""Leaflet, its plugins and Swagger UI, served by ZoneGuard itself (no CDN): locate, read, inline.

The set-up (`scripts/assets.sh`) installs the JavaScript packages from the npm registry into
`<venv>/share/zoneguard-assets` (or `ZONEGUARD_ASSETS_DIR`):
`npm install --prefix DIR leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.vectorgrid@1.3.0
swagger-ui-dist@5.17.14`.
ZoneGuard's own map script and style live beside this module in `static/`.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
import sys
from pathlib import Path

from zoneguard.errors import ZoneGuardError
from zoneguard.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
_PACKAGES = {
    "leaflet": "node_modules/leaflet/dist",
    "markercluster": "node_modules/leaflet.markercluster/dist",
    "vectorgrid": "node_modules/leaflet.vectorgrid/dist",
    "swagger-ui": "node_modules/swagger-ui-dist",
}
CSS = ("leaflet/leaflet.css", "markercluster/MarkerCluster.css",
       "markercluster/MarkerCluster.Default.css", "zoneguard/zg-map.css")
JS = ("leaflet/leaflet.js", "markercluster/leaflet.markercluster.js", "zoneguard/zg-map.js")
TILES_JS = "vectorgrid/Leaflet.VectorGrid.bundled.min.js"
SETUP_HINT = "bash scripts/assets.sh {dir}（scripts/setup.sh 会运行它）"
_URL_IN_CSS = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+)\1\)")


class AssetsMissing(ZoneGuardError):
    """The map libraries are not installed where ZoneGuard serves them from."""

    status = 503
    type = "urn:zoneguard:problem:assets-missing"
    title = "地图组件未安装"


def assets_dir(settings: Settings | None = None) -> Path:
    """Directory the npm packages were installed into (setting, environment, or the venv)."""
    configured = getattr(settings, "assets_dir", None) or os.environ.get("ZONEGUARD_ASSETS_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(sys.prefix) / "share" / "zoneguard-assets"


def asset_path(name: str, settings: Settings | None = None) -> Path:
    """The file behind `/assets/<name>` (e.g. `leaflet/leaflet.js`); NotFound-safe, no escape."""
    package, _, rest = name.partition("/")
    if package == "zoneguard":
        root = STATIC_DIR
    elif package in _PACKAGES:
        root = assets_dir(settings) / _PACKAGES[package]
        if not root.is_dir():
            raise AssetsMissing(f"地图组件 {package} 未安装在 {assets_dir(settings)}：请运行 "
                                + SETUP_HINT.format(dir=assets_dir(settings)))
    else:
        raise FileNotFoundError(name)
    path = (root / rest).resolve()
    if not rest or not path.is_relative_to(root.resolve()) or not path.is_file():
        raise FileNotFoundError(name)
    return path


def media_type(path: Path) -> str:
    """Content type of an asset file."""
    if path.suffix == ".js":
        return "text/javascript; charset=utf-8"
    if path.suffix == ".css":
        return "text/css; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def check_installed(settings: Settings | None = None) -> None:
    """Raise AssetsMissing unless every library file a map page loads is present."""
    for name in (*CSS, *JS, TILES_JS):
        asset_path(name, settings)


def _data_uri(path: Path) -> str:
    return f"data:{media_type(path)};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_css(name: str, settings: Settings | None = None) -> str:
    """A stylesheet with its relative images replaced by data URIs (for standalone files)."""
    path = asset_path(name, settings)
    css = path.read_text(encoding="utf-8")
    return _URL_IN_CSS.sub(lambda m: f"url({_data_uri(path.parent / m.group(2))})", css)


def inline_js(name: str, settings: Settings | None = None) -> str:
    """A script's text, safe to place inside an inline <script> element."""
    return asset_path(name, settings).read_text(encoding="utf-8").replace("</script", "<\\/script")
