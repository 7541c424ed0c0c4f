"""Basemaps from settings: OSM, Tianditu (天地图), Amap (GCJ-02) or none (offline intranet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from zoneguard.settings import Settings

_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILECOL={x}&TILEROW={y}&TILEMATRIX={z}&tk={key}")


@dataclass(frozen=True)
class Basemap:
    """Tile layers of a basemap and the datum overlays must be shifted to for display."""

    name: str
    label: str
    tiles: list[dict[str, Any]] = field(default_factory=list)
    attribution: str = ""
    display_crs: str | None = None  # "gcj02": overlays are shifted for display only

    def as_spec(self) -> dict[str, Any]:
        """The basemap as the map page's JSON spec."""
        return {"name": self.name, "label": self.label, "tiles": self.tiles,
                "attribution": self.attribution, "display_crs": self.display_crs}


def _tianditu(key: str) -> Basemap:
    tk = quote(key, safe="")
    layers = [{"url": _TIANDITU.replace("{layer}", layer).replace("{key}", tk),
               "subdomains": "01234567", "maxZoom": 18} for layer in ("vec", "cva")]
    return Basemap("tianditu", "天地图", layers,
                   '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> '
                   "国家地理信息公共服务平台")


def basemap_for(settings: Settings, name: str | None = None) -> Basemap:
    """The basemap configured in settings (or the one named), with its attribution."""
    chosen = name or settings.effective_basemap
    if chosen == "osm":
        return Basemap("osm", "OpenStreetMap", [
            {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "maxZoom": 19}],
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            "贡献者")
    if chosen == "tianditu":
        if not settings.tianditu_key:
            return basemap_for(settings, "none")
        return _tianditu(settings.tianditu_key)
    if chosen == "amap":
        return Basemap("amap", "高德地图", [
            {"url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                    "&style=8&x={x}&y={y}&z={z}", "subdomains": "1234", "maxZoom": 18}],
            "&copy; 高德地图（GCJ-02 坐标，叠加图层已为显示偏移）", display_crs="gcj02")
    return Basemap("none", "无底图（离线）", [], "ZoneGuard · 离线模式，无底图")
