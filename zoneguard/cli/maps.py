"""`zoneguard map city|school|screening|permitted --out FILE.html`: standalone map files.

The files inline Leaflet and the map script, so they open offline (only basemap tiles, if a
basemap is configured, come from the tile server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from zoneguard.cli.common import console, handle_errors, open_session, settings
from zoneguard.errors import ValidationError
from zoneguard.settings import Settings

app = typer.Typer(help="Write map pages (standalone HTML files).", no_args_is_help=True)
CATEGORIES = typer.Option(None, "--category", "-c", help="Premises category (repeat)")
OUT = typer.Option(..., "--out", "-o", help="HTML file to write", dir_okay=False)
BASEMAP = typer.Option(None, "--basemap", help="osm | tianditu | amap | none (default: setting)")
REGION = typer.Option(None, "--region", help="GB/T 2260 region code (prefix)")


def _settings(basemap: str | None) -> Settings:
    cfg = settings()
    if basemap is None:
        return cfg
    if basemap not in ("osm", "tianditu", "amap", "none"):
        raise ValidationError("--basemap must be one of osm, tianditu, amap, none")
    return cfg.model_copy(update={"basemap": basemap})


def _write(spec: dict[str, Any], out: Path, cfg: Settings) -> None:
    from zoneguard.maps.page import render_page

    out.write_text(render_page(spec, standalone=True, settings=cfg), encoding="utf-8")
    counts = ", ".join(f"{k} {v}" for k, v in spec.get("summary", {}).items())
    console.print(f"wrote {out} ({counts})", highlight=False)


@app.command("city")
@handle_errors
def city_command(out: Path = OUT, region: str | None = REGION,
                 category: list[str] | None = CATEGORIES,
                 basemap: str | None = BASEMAP) -> None:
    """City violation map: campuses, zones, premises by category and verdict, findings."""
    from zoneguard.maps.city import city_map

    cfg = _settings(basemap)
    with open_session() as session:
        _write(city_map(session, settings=cfg, region=region, categories=category), out, cfg)


@app.command("school")
@handle_errors
def school_command(code: str = typer.Argument(..., help="School code"), out: Path = OUT,
                   basemap: str | None = BASEMAP) -> None:
    """One school's map: campus, gates, zones, premises with measured lines."""
    from zoneguard.maps.school import school_map

    cfg = _settings(basemap)
    with open_session() as session:
        _write(school_map(session, code=code, settings=cfg), out, cfg)


@app.command("screening")
@handle_errors
def screening_command(screening_id: int = typer.Argument(..., help="Screening record id"),
                      out: Path = OUT, basemap: str | None = BASEMAP) -> None:
    """A stored screening's map: applied-for point, schools, measured lines, verdict."""
    from zoneguard.maps.screening import screening_map

    cfg = _settings(basemap)
    with open_session() as session:
        _write(screening_map(session, screening_id=screening_id, settings=cfg), out, cfg)


@app.command("permitted")
@handle_errors
def permitted_command(
    category: str = typer.Option(..., "--category", "-c"), out: Path = OUT,
    region: str | None = REGION,
    bbox: str | None = typer.Option(None, "--bbox", help="minlon,minlat,maxlon,maxlat (WGS 84)"),
    basemap: str | None = BASEMAP,
) -> None:
    """Where a new premises of a category may open by distance (screening decides)."""
    from zoneguard.maps.permitted import permitted_map

    box = None
    if bbox is not None:
        try:
            minx, miny, maxx, maxy = (float(v) for v in bbox.split(","))
        except ValueError:
            raise typer.BadParameter("--bbox is minlon,minlat,maxlon,maxlat") from None
        box = (minx, miny, maxx, maxy)
    cfg = _settings(basemap)
    with open_session() as session:
        _write(permitted_map(session, category=category, settings=cfg, region=region, bbox=box),
               out, cfg)
