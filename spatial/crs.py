"""Coordinate reference systems accepted by ZoneGuard and conversion to/from WGS 84.

A CRS is named by a short text (parsed case-insensitively by :func:`parse_crs`):

* ``EPSG:<code>`` - any 2-D geographic or projected CRS known to PROJ, e.g.
  EPSG:4326 (WGS 84), EPSG:4490 (CGCS2000), EPSG:4547 / EPSG:4526 (CGCS2000
  3-degree Gauss-Krüger), EPSG:32650 (WGS 84 / UTM 50N). Geocentric, vertical,
  compound and 3-D CRSs are rejected.
* ``wgs84``, ``wgs-84``, ``crs84``, ``OGC:CRS84`` -> EPSG:4326; ``cgcs2000`` -> EPSG:4490.
* ``gcj02``, ``gcj-02``, ``amap``, ``tencent`` -> GCJ-02; ``bd09``, ``bd-09``, ``baidu`` -> BD-09
  (see :mod:`spatial.datums`, including its offset-area rule).

Coordinates are always passed x/longitude first (``always_xy``), in the CRS's own
units (degrees for geographic CRSs, metres for the projected ones above). EPSG
conversions go through cached ``pyproj`` transformers (thread-safe since pyproj 3.1);
CGCS2000 is handled by PROJ as a null transformation to WGS 84. Results follow the
:mod:`spatial.datums` convention: a ``(x, y)`` tuple of new float64 arrays of the
broadcast input shape; coordinates PROJ cannot transform come back as NaN.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from spatial import datums
from spatial.errors import CrsError

if TYPE_CHECKING:  # pyproj loads at the first conversion that needs PROJ (not for WGS 84)
    from pyproj import Geod, Transformer

__all__ = [
    "ACCEPTED_FORMS",
    "CrsSpec",
    "from_wgs84",
    "geometries_to_wgs84",
    "geometry_from_wgs84",
    "geometry_to_wgs84",
    "parse_crs",
    "to_wgs84",
]

CrsKind = Literal["epsg", "gcj02", "bd09"]
Float64Array = NDArray[np.float64]
XY = tuple[Float64Array, Float64Array]

ACCEPTED_FORMS = (
    "EPSG:<代码>（二维的地理或投影坐标系，如 EPSG:4326、EPSG:4490、EPSG:4547、EPSG:32650）；"
    "wgs84 / wgs-84 / crs84 / OGC:CRS84（即 EPSG:4326）；cgcs2000（即 EPSG:4490）；"
    "gcj02 / gcj-02 / amap / tencent（火星坐标）；bd09 / bd-09 / baidu（百度坐标）"
)

_ALIASES: dict[str, tuple[CrsKind, int | None]] = {
    "wgs84": ("epsg", 4326),
    "wgs-84": ("epsg", 4326),
    "crs84": ("epsg", 4326),
    "ogc:crs84": ("epsg", 4326),
    "cgcs2000": ("epsg", 4490),
    "gcj02": ("gcj02", None),
    "gcj-02": ("gcj02", None),
    "amap": ("gcj02", None),
    "tencent": ("gcj02", None),
    "bd09": ("bd09", None),
    "bd-09": ("bd09", None),
    "baidu": ("bd09", None),
}
_EPSG_RE = re.compile(r"epsg\s*:\s*(\d{1,9})")
_WGS84 = 4326


@dataclass(frozen=True)
class CrsSpec:
    """A parsed CRS: canonical ``name``, ``kind`` and the EPSG code for kind "epsg"."""

    name: str
    kind: CrsKind
    epsg: int | None = None


def parse_crs(value: str | CrsSpec) -> CrsSpec:
    """Parse a CRS name (see module docstring) into a :class:`CrsSpec`; raise CrsError."""
    if isinstance(value, CrsSpec):
        return value
    if not isinstance(value, str):
        raise CrsError(
            f"坐标系应为文本，实际为 {type(value).__name__}；可用的写法：{ACCEPTED_FORMS}"
        )
    return _parse_text(value.strip())


@functools.lru_cache(maxsize=256)
def _parse_text(value: str) -> CrsSpec:
    text = value.lower()
    if text in _ALIASES:
        kind, code = _ALIASES[text]
        if code is None:
            return CrsSpec(name=kind, kind=kind)
        return _epsg_spec(code, text)
    match = _EPSG_RE.fullmatch(text)
    if match is None:
        raise CrsError(f"无法识别的坐标系 {value!r}；可用的写法：{ACCEPTED_FORMS}")
    return _epsg_spec(int(match.group(1)), value)


def _epsg_spec(code: int, text: str) -> CrsSpec:
    if code == _WGS84:  # 2-D geographic: known without asking PROJ
        return CrsSpec(name=f"EPSG:{code}", kind="epsg", epsg=code)
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(code)
    except CRSError as exc:
        raise CrsError(f"{text!r} 中的 EPSG 代码不存在；可用的写法：{ACCEPTED_FORMS}") from exc
    if crs.is_geocentric or not (crs.is_geographic or crs.is_projected):
        raise CrsError(f"EPSG:{code}（{crs.name}）不是地理或投影坐标系")
    if crs.is_compound or len(crs.axis_info) != 2:
        raise CrsError(f"EPSG:{code}（{crs.name}）不是二维坐标系（含高程）")
    return CrsSpec(name=f"EPSG:{code}", kind="epsg", epsg=code)


@functools.lru_cache(maxsize=1)
def wgs84_geod() -> Geod:
    """The WGS 84 ellipsoid for geodesic metres and bearings (pyproj loads at first use)."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


@functools.lru_cache(maxsize=64)
def _transformer(source: int, target: int) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(f"EPSG:{source}", f"EPSG:{target}", always_xy=True)


def _project(source: int, target: int, x: ArrayLike, y: ArrayLike) -> XY:
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if source == target:
        return xa.copy(), ya.copy()
    ox, oy = _transformer(source, target).transform(xa, ya, errcheck=False)
    out_x = np.array(ox, dtype=np.float64).reshape(xa.shape)
    out_y = np.array(oy, dtype=np.float64).reshape(xa.shape)
    bad = ~(np.isfinite(out_x) & np.isfinite(out_y))
    out_x[bad] = np.nan
    out_y[bad] = np.nan
    return out_x, out_y


def _epsg_of(spec: CrsSpec) -> int:
    if spec.epsg is None:
        raise CrsError(f"CrsSpec {spec.name!r} of kind {spec.kind!r} has no EPSG code")
    return spec.epsg


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: str | CrsSpec) -> XY:
    """Convert x/lon, y/lat in ``crs`` units to WGS 84 (EPSG:4326) lon/lat in degrees."""
    spec = parse_crs(crs)
    if spec.kind == "gcj02":
        return datums.gcj02_to_wgs84(x, y)
    if spec.kind == "bd09":
        return datums.bd09_to_wgs84(x, y)
    return _project(_epsg_of(spec), _WGS84, x, y)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | CrsSpec) -> XY:
    """Convert WGS 84 lon/lat in degrees to x/lon, y/lat in ``crs`` units."""
    spec = parse_crs(crs)
    if spec.kind == "gcj02":
        return datums.wgs84_to_gcj02(lon, lat)
    if spec.kind == "bd09":
        return datums.wgs84_to_bd09(lon, lat)
    return _project(_WGS84, _epsg_of(spec), lon, lat)


def _shapely_transform(geoms: Any, spec: CrsSpec, to_wgs: bool) -> Any:
    convert = to_wgs84 if to_wgs else from_wgs84

    def func(coords: Float64Array) -> Float64Array:
        x, y = convert(coords[:, 0], coords[:, 1], spec)
        return np.column_stack([x, y])

    return shapely.transform(geoms, func)


def geometry_to_wgs84(geom: Any, crs: str | CrsSpec) -> Any:
    """Return a shapely geometry in ``crs`` converted to 2-D WGS 84 lon/lat degrees."""
    return _shapely_transform(geom, parse_crs(crs), to_wgs=True)


def geometries_to_wgs84(geoms: ArrayLike, crs: str | CrsSpec) -> NDArray[np.object_]:
    """Convert an array of shapely geometries (None kept) in ``crs`` to 2-D WGS 84 degrees."""
    arr = np.asarray(geoms, dtype=object)
    return np.asarray(_shapely_transform(arr, parse_crs(crs), to_wgs=True), dtype=object)


def geometry_from_wgs84(geom: Any, crs: str | CrsSpec) -> Any:
    """Return a 2-D WGS 84 (degrees) shapely geometry converted to ``crs`` (e.g. GCJ-02 display)."""
    return _shapely_transform(geom, parse_crs(crs), to_wgs=False)
