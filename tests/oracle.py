"""Independent oracles: GeographicLib (pyproj.Geod) and Shapely in a local azimuthal-equidistant
projection centred on the measured point."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely import ops
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=4096)
def _aeqd(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    proj = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    inv = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    return fwd, inv


def to_local(geom: BaseGeometry, lon: float, lat: float) -> BaseGeometry:
    """Project a WGS 84 geometry into the AEQD plane centred on (lon, lat), metres."""
    fwd, _ = _aeqd(lon, lat)
    return shapely.transform(geom, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))


def from_local(geom: BaseGeometry, lon: float, lat: float) -> BaseGeometry:
    """Unproject a geometry of the AEQD plane centred on (lon, lat) back to WGS 84."""
    _, inv = _aeqd(lon, lat)
    return shapely.transform(geom, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))


def distance_m(lon: float, lat: float, target: BaseGeometry) -> tuple[float, tuple[float, float]]:
    """Geodesic distance from (lon, lat) to `target` (WGS 84) and the nearest point.

    The nearest point is found in the AEQD plane of the measured point (where distances from
    the centre are exact geodesic lengths) and the length is then taken by GeographicLib.
    """
    local = to_local(target, lon, lat)
    origin = Point(0.0, 0.0)
    if local.covers(origin):
        return 0.0, (lon, lat)
    near_local = ops.nearest_points(local, origin)[0]
    near = from_local(near_local, lon, lat)
    _, _, dist = GEOD.inv(lon, lat, near.x, near.y)
    return float(dist), (float(near.x), float(near.y))


# --- GCJ-02 / BD-09: the published forward formulas, written out independently ------------

_A = 6378245.0
_EE = 0.00669342162296594323
_XPI = math.pi * 3000.0 / 180.0


def _t_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _t_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 forward formula (Krasovsky ellipsoid)."""
    d_lat = _t_lat(lon - 105.0, lat - 35.0)
    d_lon = _t_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sq * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    """The published BD-09 forward formula from GCJ-02."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _XPI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _XPI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def invert(forward: Any, lon: float, lat: float) -> tuple[float, float]:
    """Invert a forward datum formula by fixed-point iteration to 1e-12 degrees."""
    x, y = lon, lat
    for _ in range(100):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-12 and abs(dy) < 1e-12:
            break
    return x, y


def bd_to_gcj_conventional(lon: float, lat: float) -> tuple[float, float]:
    """The conventional one-step BD-09 → GCJ-02 decrypt that providers' exports use."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _XPI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _XPI)
    return z * math.cos(theta), z * math.sin(theta)
