"""A rule set with one requirement of each kind of measurement, and places in metres."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Geod
from shapely.geometry import Polygon

from tests.factories import RULES_YAML, write_rules
from zoneguard.rules import RuleSet, load_rule_set

GEOD = Geod(ellps="WGS84")
CITE = "citations: [{authority: 测试机关, title: 测试依据, confidence: C}]"
LEVELS = "protects: [primary, secondary]"
REQUIREMENTS = f"""
jurisdiction: 42
name: 湖北省
version: test
requirements:
  - {{id: t.warning_sign, kind: warning_sign, {LEVELS}, per: school, within_m: 200,
     target: 1.0, {CITE}, effective_from: 2000-01-01}}
  - {{id: t.traffic_sign, kind: traffic_sign, {LEVELS}, per: main_gate, within_m: 150,
     target: 0.8, {CITE}, effective_from: 2000-01-01}}
  - {{id: t.guard_post, kind: guard_post, {LEVELS}, per: main_gate, within_m: 50, count: 2,
     {CITE}, effective_from: 2000-01-01}}
  - {{id: t.camera, kind: camera, {LEVELS}, per: each_gate, within_m: 50,
     camera_covers_gate: true, {CITE}, effective_from: 2000-01-01}}
  - {{id: t.anti_ram, kind: anti_ram, {LEVELS}, per: each_gate, within_m: 30, {CITE},
     effective_from: 2000-01-01}}
  - {{id: t.police_room, kind: police_room, {LEVELS}, per: school, within_m: 300, {CITE},
     effective_from: 2000-01-01}}
"""
ORIGIN = (114.30, 30.55)


def offset(lon: float, lat: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point `metres` away along a geodesic bearing (WGS 84): the test's own oracle."""
    x, y, _ = GEOD.fwd(lon, lat, bearing_deg, metres)
    return x, y


def campus(lon: float, lat: float, half_m: float = 50.0) -> Polygon:
    """A square campus of 2 × half_m around a centre."""
    n = offset(lon, lat, 0, half_m)[1]
    s = offset(lon, lat, 180, half_m)[1]
    e = offset(lon, lat, 90, half_m)[0]
    w = offset(lon, lat, 270, half_m)[0]
    return Polygon([(w, s), (e, s), (e, n), (w, n)])


def requirement_rules(directory: Path) -> RuleSet:
    """The test bans (CN) and the requirements of 42, written under `directory`."""
    write_rules(directory, RULES_YAML)
    (directory / "42-requirements.yaml").write_text(REQUIREMENTS, encoding="utf-8")
    return load_rule_set(directory)


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    """The test bans (CN) and the requirements of 42."""
    return requirement_rules(tmp_path / "rules")
