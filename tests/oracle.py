"""Independent oracles: GeographicLib (pyproj.Geod) and Shapely in a local azimuthal-equidistant
projection centred on the measured point."""

from __future__ import annotations

from functools import lru_cache

from pyproj import Geod, Transformer
import numpy as np
import shapely
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
