"""Tests for spatial.crs: CRS parsing and conversion to/from WGS 84."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod, Transformer

from spatial import datums
from spatial.crs import (
    CrsSpec,
    from_wgs84,
    geometries_to_wgs84,
    geometry_from_wgs84,
    geometry_to_wgs84,
    parse_crs,
    to_wgs84,
)
from spatial.errors import CrsError, SpatialError

GEOD = Geod(ellps="WGS84")
Conv = Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:4326", CrsSpec("EPSG:4326", "epsg", 4326)),
        ("epsg:4326", CrsSpec("EPSG:4326", "epsg", 4326)),
        (" Epsg : 4490 ", CrsSpec("EPSG:4490", "epsg", 4490)),
        ("EPSG:4547", CrsSpec("EPSG:4547", "epsg", 4547)),
        ("EPSG:4526", CrsSpec("EPSG:4526", "epsg", 4526)),
        ("EPSG:32650", CrsSpec("EPSG:32650", "epsg", 32650)),
        ("EPSG:3857", CrsSpec("EPSG:3857", "epsg", 3857)),
        ("wgs84", CrsSpec("EPSG:4326", "epsg", 4326)),
        ("WGS-84", CrsSpec("EPSG:4326", "epsg", 4326)),
        ("CRS84", CrsSpec("EPSG:4326", "epsg", 4326)),
        ("OGC:CRS84", CrsSpec("EPSG:4326", "epsg", 4326)),
        ("CGCS2000", CrsSpec("EPSG:4490", "epsg", 4490)),
        ("gcj02", CrsSpec("gcj02", "gcj02", None)),
        ("GCJ-02", CrsSpec("gcj02", "gcj02", None)),
        ("AMap", CrsSpec("gcj02", "gcj02", None)),
        ("tencent", CrsSpec("gcj02", "gcj02", None)),
        ("BD09", CrsSpec("bd09", "bd09", None)),
        ("bd-09", CrsSpec("bd09", "bd09", None)),
        ("Baidu", CrsSpec("bd09", "bd09", None)),
    ],
)
def test_parse_crs_accepts(text: str, expected: CrsSpec) -> None:
    assert parse_crs(text) == expected
    assert parse_crs(expected) is expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("mars", "无法识别的坐标系 'mars'；可用的写法：EPSG:<代码>"),
        ("", "可用的写法："),
        ("EPSG:", "可用的写法："),
        ("EPSG:4326:1", "可用的写法："),
        ("ESRI:102100", "可用的写法："),
        ("EPSG:999999", "EPSG 代码不存在"),
        ("EPSG:4978", "不是地理或投影坐标系"),  # geocentric
        ("EPSG:5773", "不是地理或投影坐标系"),  # vertical (EGM96 height)
        ("EPSG:4979", "不是二维坐标系"),  # WGS 84 3-D
        ("EPSG:9518", "不是二维坐标系"),  # compound WGS 84 + EGM2008 height
    ],
)
def test_parse_crs_rejects(text: str, fragment: str) -> None:
    with pytest.raises(CrsError, match=fragment.replace("<", ".").replace(">", ".")) as info:
        parse_crs(text)
    assert isinstance(info.value, SpatialError) and isinstance(info.value, ValueError)


def test_unknown_crs_message_lists_accepted_forms() -> None:
    with pytest.raises(CrsError) as info:
        parse_crs("WGS1984")
    message = str(info.value)
    assert "'WGS1984'" in message
    for form in ("EPSG:", "wgs84", "OGC:CRS84", "cgcs2000", "gcj02", "amap", "bd09", "baidu"):
        assert form in message


def test_parse_crs_rejects_non_string() -> None:
    with pytest.raises(CrsError, match="坐标系应为文本"):
        parse_crs(4326)  # type: ignore[arg-type]


def test_crs_spec_is_frozen() -> None:
    spec = parse_crs("wgs84")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.epsg = 4490  # type: ignore[misc]


def _grid_4547() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # CGCS2000 3-degree Gauss-Krüger CM 114E (no zone prefix): Shenzhen .. Wuhan
    x, y = np.meshgrid(np.linspace(380_000, 620_000, 25), np.linspace(2_450_000, 3_400_000, 40))
    return x.ravel(), y.ravel()


@pytest.mark.parametrize(
    ("crs", "offset"), [("EPSG:4547", 0.0), ("EPSG:4526", 38_000_000.0), ("EPSG:32650", -300_000.0)]
)
def test_to_wgs84_projected_matches_pyproj(crs: str, offset: float) -> None:
    x, y = _grid_4547()
    x = x + offset
    lon, lat = to_wgs84(x, y, crs)
    ref_lon, ref_lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    assert np.abs(lon - ref_lon).max() < 1e-12 and np.abs(lat - ref_lat).max() < 1e-12
    assert lon.shape == x.shape and lon.dtype == np.float64


def test_4547_known_point_and_round_trip() -> None:
    lon, lat = to_wgs84(500_000.0, 2_500_000.0, "EPSG:4547")
    assert float(lon) == pytest.approx(114.0, abs=1e-12)  # central meridian
    assert 22.5 < float(lat) < 22.7
    x, y = from_wgs84(114.05, 22.54, "EPSG:4547")
    back = to_wgs84(x, y, "EPSG:4547")
    assert GEOD.inv(float(back[0]), float(back[1]), 114.05, 22.54)[2] < 1e-6


def test_geographic_crs() -> None:
    lon = np.array([121.5, 116.4, 24.94])
    lat = np.array([31.2, 39.9, 60.17])
    x, y = to_wgs84(lon, lat, "EPSG:4326")
    assert np.array_equal(x, lon) and np.array_equal(y, lat) and x is not lon
    x, y = to_wgs84(lon, lat, "cgcs2000")  # null transformation through PROJ
    assert np.abs(x - lon).max() < 1e-9 and np.abs(y - lat).max() < 1e-9


def test_unprojectable_point_becomes_nan() -> None:
    x, y = to_wgs84([1e30, np.nan, 500_000.0], [1e30, 2_500_000.0, 2_500_000.0], "EPSG:4547")
    assert np.isnan(x[:2]).all() and np.isnan(y[:2]).all() and np.isfinite([x[2], y[2]]).all()


@pytest.mark.parametrize(
    ("crs", "to", "back"),
    [
        ("gcj02", datums.gcj02_to_wgs84, datums.wgs84_to_gcj02),
        ("baidu", datums.bd09_to_wgs84, datums.wgs84_to_bd09),
    ],
)
def test_offset_datums_dispatch(crs: str, to: Conv, back: Conv) -> None:
    lon, lat = [121.5, 24.94], [31.2, 60.17]
    assert np.array_equal(np.array(to_wgs84(lon, lat, crs)), np.array(to(lon, lat)))
    assert np.array_equal(np.array(from_wgs84(lon, lat, crs)), np.array(back(lon, lat)))


def test_100k_points_vectorised() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(108.0, 120.0, 100_000)
    lat = rng.uniform(18.5, 45.0, 100_000)
    for crs in ("gcj02", "bd09", "EPSG:4547", "EPSG:32650"):
        x, y = from_wgs84(lon, lat, crs)
        back_lon, back_lat = to_wgs84(x, y, crs)
        assert back_lon.shape == (100_000,) and np.isfinite(back_lon).all()
        assert GEOD.inv(back_lon, back_lat, lon, lat)[2].max() < 1e-3


def test_geometry_to_wgs84_gcj02() -> None:
    poly = shapely.Polygon([(121.50, 31.20), (121.51, 31.20), (121.51, 31.21), (121.50, 31.21)])
    out = geometry_to_wgs84(poly, "amap")
    assert out.geom_type == "Polygon"
    got = shapely.get_coordinates(out)
    exp_lon, exp_lat = datums.gcj02_to_wgs84(*shapely.get_coordinates(poly).T)
    assert np.array_equal(got, np.column_stack([exp_lon, exp_lat]))
    back = geometry_from_wgs84(out, "gcj02")
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(poly)).max() < 1e-10


def test_geometry_to_wgs84_projected_and_z_dropped() -> None:
    line = shapely.LineString([(500_000, 2_500_000, 10), (510_000, 2_510_000, 20)])
    out = geometry_to_wgs84(line, "EPSG:4547")
    assert not out.has_z
    ref = Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True)
    exp = np.column_stack(ref.transform([500_000, 510_000], [2_500_000, 2_510_000]))
    assert np.abs(shapely.get_coordinates(out) - exp).max() < 1e-12


def test_geometries_to_wgs84_array() -> None:
    geoms = np.array(
        [shapely.Point(121.5, 31.2), None, shapely.MultiPoint([(116.4, 39.9), (24.94, 60.17)])],
        dtype=object,
    )
    out = geometries_to_wgs84(geoms, "bd09")
    assert out.shape == (3,) and out[1] is None
    lon, lat = datums.bd09_to_wgs84([121.5, 116.4, 24.94], [31.2, 39.9, 60.17])
    got = shapely.get_coordinates(out)
    assert np.array_equal(got, np.column_stack([lon, lat]))
    assert got[2].tolist() == [24.94, 60.17]  # Helsinki: outside the offset area
