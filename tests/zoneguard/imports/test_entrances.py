"""A premises' entrance farther than ZONEGUARD_MAX_ENTRANCE_M from its point is a rejected row."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from zoneguard.imports import Limits, read_table
from zoneguard.imports.validate import entrance_too_far

# WGS 84 ellipsoid, for the oracle below
A, F = 6378137.0, 1 / 298.257223563
E2 = F * (2 - F)
HEADER = "许可证号,名称,类别,区划,经度,纬度,入口经度,入口纬度\n"


def meridian_m(lat_deg: float, dlat_deg: float) -> float:
    """Length of a short meridian arc: radius of curvature M at its middle times the angle."""
    phi = math.radians(lat_deg + dlat_deg / 2)
    m = A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5
    return m * math.radians(abs(dlat_deg))


def test_entrance_too_far_measures_geodesic_metres() -> None:
    dlat = 812.4 / 110_800  # about 812 m north, at 28° N
    expected = meridian_m(28.19, dlat)
    distance = entrance_too_far((112.98, 28.19), (112.98, 28.19 + dlat), 50)
    assert distance == pytest.approx(expected, abs=0.01)
    assert entrance_too_far((112.98, 28.19), (112.98, 28.19 + dlat), expected + 1) is None
    assert entrance_too_far((112.98, 28.19), (112.98, 28.19), 0.5) is None


def _premises(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "premises.csv"
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_far_entrance_is_a_rejected_row_in_chinese(tmp_path: Path) -> None:
    dlat = 0.0073  # ~809 m north
    far = 28.19 + dlat
    path = _premises(tmp_path, "P-1,网吧一,internet_cafe,430103,112.98,28.19,112.98,28.1903",
                     f"P-2,网吧二,internet_cafe,430103,112.98,28.19,112.98,{far}")
    parsed = read_table(path, kind="premises", crs="wgs84")
    assert parsed.rejected_rows == {3}
    (problem,) = parsed.problems
    shown = f"{meridian_m(28.19, dlat):.1f}"
    assert problem.problem == f"入口距场所点 {shown} 米，超过 50 米上限"
    assert problem.column == "入口经度" and problem.row == 3


def test_entrance_limit_is_a_setting_and_applies_after_datum_conversion(tmp_path: Path) -> None:
    # 40 m east of the point, both in GCJ-02: converted alike, still about 40 m apart
    dlon = 40 / (111_320 * math.cos(math.radians(28.19)))
    path = _premises(tmp_path,
                     f"P-1,网吧一,internet_cafe,430103,112.98,28.19,{112.98 + dlon},28.19")
    assert read_table(path, kind="premises", crs="gcj02").ok
    strict = read_table(path, kind="premises", crs="gcj02", limits=Limits(max_entrance_m=30))
    (problem,) = strict.problems
    assert "超过 30 米上限" in problem.problem
    distance = float(problem.problem.split()[1])
    assert distance == pytest.approx(40, abs=0.3)
    unchecked = read_table(path, kind="premises", crs="gcj02",
                           limits=Limits(max_entrance_m=None))
    assert unchecked.ok
