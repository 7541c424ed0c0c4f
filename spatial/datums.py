"""Chinese map datums: WGS 84 <-> GCJ-02 <-> BD-09, with exact inverses.

GCJ-02 ("Mars coordinates", used by Amap/Gaode and Tencent) is WGS 84 plus a
deterministic, smoothly varying offset of a few hundred metres. BD-09 (Baidu) is
a further obfuscation of GCJ-02. The forward formulas here are the published
ones: the Krasovsky 1940 ellipsoid (a = 6378245.0 m, e^2 = 0.006693421622965943)
with the standard ``transformLat``/``transformLon`` polynomials, and the standard
``bd_encrypt`` (x_pi = pi*3000/180, 0.00002*sin(y*x_pi), 0.000003*cos(x*x_pi),
offsets 0.0065/0.006).

Inverses are computed by *exact iterative inversion* of the forward functions
(fixed-point iteration, a contraction because the offsets vary slowly), until the
forward residual is below ``1e-11`` degrees (about 1 micrometre), at most
``_MAX_ITER`` rounds (5 suffice everywhere in the offset area). The one-step
inverse common in the wild (``wgs = gcj - offset(gcj)``, errors up to ~5 m) and
the classic ``bd_decrypt`` (errors of centimetres to decimetres) are used here
only as starting points.

Offset-area rule: providers apply the offset only "inside China". This module
uses the conventional rectangle lon 72.004..137.8347 E, lat 0.8293..55.8271 N
(bounds inclusive), tested on the *input* point of each conversion. Points
outside it are returned unchanged by all six conversions; a point with a NaN
coordinate comes back as (NaN, NaN), without exception or warning. The
rectangle also covers neighbouring territory (parts of Korea, Japan, Mongolia,
Southeast Asia...): e.g. 128.543 E 37.065 N (South Korea) *is* shifted here, as
by the bbox-based libraries (coordtransform, eviltransform), whereas
polygon-based libraries (PRCoords' ``insane_is_in_china``) leave it alone.
Because the test is made on the input point, a round trip of a point within
~1 km of the rectangle's edge can be inconsistent (not an issue inside China).

Convention: every conversion accepts scalars or array-likes of longitude and
latitude in degrees (broadcast together) and returns a ``(lon, lat)`` tuple of
new float64 numpy arrays of the broadcast shape (0-d arrays for scalar input;
``float(x)`` converts them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "OFFSET_AREA",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_offset_area",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Float64Array = NDArray[np.float64]
LonLat = tuple[Float64Array, Float64Array]
_Raw = Callable[[Float64Array, Float64Array], LonLat]

#: (min_lon, min_lat, max_lon, max_lat) of the conventional offset rectangle, degrees.
OFFSET_AREA: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL = 1e-11  # forward residual, degrees
_MAX_ITER = 30


def _as_lonlat(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.copy(), y.copy()


def in_offset_area(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where (lon, lat) in degrees lies in the offset rectangle (NaN -> False)."""
    x, y = _as_lonlat(lon, lat)
    x0, y0, x1, y1 = OFFSET_AREA
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _transform_lat(x: Float64Array, y: Float64Array) -> Float64Array:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: Float64Array, y: Float64Array) -> Float64Array:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_forward(lon: Float64Array, lat: Float64Array) -> LonLat:
    """Unconditional WGS 84 -> GCJ-02 (no offset-area test)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def _bd_encrypt(lon: Float64Array, lat: Float64Array) -> LonLat:
    """Unconditional GCJ-02 -> BD-09."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_decrypt(lon: Float64Array, lat: Float64Array) -> LonLat:
    """Classic approximate BD-09 -> GCJ-02 (starting point of the exact inverse)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd(lon: Float64Array, lat: Float64Array) -> LonLat:
    return _bd_encrypt(*_gcj_forward(lon, lat))


def _invert(forward: _Raw, lon: Float64Array, lat: Float64Array, guess: LonLat) -> LonLat:
    """Solve forward(x, y) == (lon, lat) by fixed-point iteration from ``guess``."""
    x, y = guess[0].copy(), guess[1].copy()
    active = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        rx = fx - lon[active]
        ry = fy - lat[active]
        x[active] -= rx
        y[active] -= ry
        active = active[(np.abs(rx) > _TOL) | (np.abs(ry) > _TOL)]
    return x, y


def _gcj_inverse(lon: Float64Array, lat: Float64Array) -> LonLat:
    fx, fy = _gcj_forward(lon, lat)
    return _invert(_gcj_forward, lon, lat, (2.0 * lon - fx, 2.0 * lat - fy))


def _bd_inverse(lon: Float64Array, lat: Float64Array) -> LonLat:
    return _invert(_bd_encrypt, lon, lat, _bd_decrypt(lon, lat))


def _bd_to_wgs(lon: Float64Array, lat: Float64Array) -> LonLat:
    return _gcj_inverse(*_bd_inverse(lon, lat))


def _apply(raw: _Raw, lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Apply ``raw`` where the input lies in the offset area, identity elsewhere."""
    x, y = _as_lonlat(lon, lat)
    invalid = np.isnan(x) | np.isnan(y)
    x[invalid] = np.nan
    y[invalid] = np.nan
    inside = in_offset_area(x, y)
    if inside.any():
        ox, oy = raw(x[inside], y[inside])
        x[inside] = ox
        y[inside] = oy
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS 84 lon/lat (degrees) to GCJ-02 lon/lat (degrees)."""
    return _apply(_gcj_forward, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to WGS 84 lon/lat (degrees), exact inverse."""
    return _apply(_gcj_inverse, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to BD-09 lon/lat (degrees)."""
    return _apply(_bd_encrypt, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 lon/lat (degrees) to GCJ-02 lon/lat (degrees), exact inverse."""
    return _apply(_bd_inverse, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS 84 lon/lat (degrees) to BD-09 lon/lat (degrees)."""
    return _apply(_wgs_to_bd, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 lon/lat (degrees) to WGS 84 lon/lat (degrees), exact inverse."""
    return _apply(_bd_to_wgs, lon, lat)
