"""A static SVG sketch for printed records: campus, zone, measured line, points, scale bar.

Coordinates are projected with a local equirectangular approximation around the line, for
drawing only (the distances printed beside it are the measured geodesic ones).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

Ring = Sequence[Sequence[float]]
WIDTH, HEIGHT, PAD = 640, 420, 36
_M_PER_DEG = 111_320.0


def _rings(geometry: dict[str, Any] | None) -> list[Ring]:
    if not geometry:
        return []
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for polygon in coords for ring in polygon]
    return []


def sketch(
    *, line: Sequence[Sequence[float]] | None, campus: dict[str, Any] | None = None,
    zone: dict[str, Any] | None = None,
    labels: Iterable[tuple[Sequence[float], str, str]] = (),
    caption: str = "",
) -> str:
    """An SVG of the campus (and its zone) with the measured line; WGS 84 lon/lat input."""
    rings, zone_rings = _rings(campus), _rings(zone)
    points = [p for ring in rings + zone_rings for p in ring] + list(line or [])
    labels = list(labels)
    points += [p for p, _, _ in labels]
    if campus and campus["type"] == "Point":
        points.append(campus["coordinates"])
    if not points:
        return ""
    lon0 = sum(p[0] for p in points) / len(points)
    lat0 = sum(p[1] for p in points) / len(points)
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    xs = [(p[0] - lon0) * kx for p in points]
    ys = [(p[1] - lat0) * _M_PER_DEG for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 20.0)
    scale = min((WIDTH - 2 * PAD) / span, (HEIGHT - 2 * PAD) / span)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def xy(p: Sequence[float]) -> str:
        x = WIDTH / 2 + ((p[0] - lon0) * kx - cx) * scale
        y = HEIGHT / 2 - ((p[1] - lat0) * _M_PER_DEG - cy) * scale
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" class="zg-sketch" role="img" '
             f'aria-label="{escape(caption)}"><rect width="100%" height="100%" fill="#f7f9fb" '
             'stroke="#ccc"/>']
    parts += [f'<polygon points="{" ".join(xy(p) for p in ring)}" fill="#d62728" '
              'fill-opacity="0.08" stroke="#d62728" stroke-dasharray="5 3"/>'
              for ring in zone_rings]
    parts += [f'<polygon points="{" ".join(xy(p) for p in ring)}" fill="#0b3d91" '
              'fill-opacity="0.3" stroke="#0b3d91" stroke-width="2"/>' for ring in rings]
    if campus and campus["type"] == "Point":
        parts.append(f'<circle cx="{xy(campus["coordinates"]).split(",")[0]}" '
                     f'cy="{xy(campus["coordinates"]).split(",")[1]}" r="6" fill="#0b3d91"/>')
    if line:
        parts.append(f'<polyline points="{" ".join(xy(p) for p in line)}" fill="none" '
                     'stroke="#d62728" stroke-width="3"/>')
        for p in (line[0], line[-1]):
            x, y = xy(p).split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="5" fill="#fff" stroke="#d62728" '
                         'stroke-width="2"/>')
    for p, text, anchor in labels:  # anchor: "start" (text to the right) or "end"
        x, y = xy(p).split(",")
        dx = -8 if anchor == "end" else 8
        parts.append(f'<text x="{float(x) + dx:.1f}" y="{float(y) - 8:.1f}" font-size="13" '
                     f'text-anchor="{escape(anchor)}" fill="#111">{escape(text)}</text>')
    bar_m = _nice(span / 4)
    bar_px = bar_m * scale
    parts.append(f'<g transform="translate({PAD},{HEIGHT - 16})"><rect width="{bar_px:.1f}" '
                 f'height="4" fill="#333"/><text y="-6" font-size="12">{bar_m:g} 米</text></g>'
                 f'<g transform="translate({WIDTH - 24},{PAD})"><path d="M0,14 L6,-4 L12,14 '
                 'L6,9 Z" fill="#333"/><text x="2" y="30" font-size="12">北</text></g></svg>')
    return "".join(parts)


def _nice(value: float) -> float:
    """A round length (1, 2 or 5 × 10^n metres) not above `value`."""
    power = 10.0 ** math.floor(math.log10(max(value, 1.0)))
    return float(max(m * power for m in (1, 2, 5) if m * power <= max(value, 1.0)))
