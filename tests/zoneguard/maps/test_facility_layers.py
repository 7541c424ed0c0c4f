"""City map: facilities, a 缺 marker at the gate a requirement misses, schools by risk grade."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pyproj import Geod
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_gate, add_premises, add_school
from tests.zoneguard.maps.sample import map_settings
from tests.zoneguard.services.facilities.conftest import campus, offset, requirement_rules
from zoneguard.maps.city import city_map
from zoneguard.maps.facility_layers import GRADE_COLOURS
from zoneguard.services.facilities.registry import add_facility
from zoneguard.settings import Settings

ON = date(2026, 6, 1)
GEOD = Geod(ellps="WGS84")


def test_missing_facilities_are_drawn_at_the_gate_they_should_serve(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    rules = requirement_rules(tmp_path / "rules")
    lon, lat = 114.30, 30.55
    sid = add_school(session, "FM1", campus(lon, lat), region="420102", name="设施小学")
    gate = offset(lon, lat, 180, 50)
    add_gate(session, sid, *gate, kind="main")
    # the traffic sign stands 160 m from the main gate: beyond the 150 m it must be within
    add_facility(session, kind="交通标志", name="限速标志", region="420102",
                 lon=offset(*gate, 180, 160)[0], lat=offset(*gate, 180, 160)[1])
    cafe = add_premises(session, "internet_cafe", *offset(lon, lat, 90, 120), region="420102")
    add_finding(session, sid, cafe, rule_id="t.internet_cafe")  # 禁止 40 → 橙
    cfg = map_settings(settings, tmp_path)
    spec = city_map(session, settings=cfg, region="420102", rule_set=rules, on=ON)
    layers = {ov["id"]: ov["data"]["features"] for ov in spec["overlays"]
              if ov["type"] == "geojson"}
    (sign,) = layers["facilities"]
    assert sign["properties"]["_title"] == "交通标志：限速标志"
    signs = [f for f in layers["missing"] if f["properties"]["requirement_id"] == "t.traffic_sign"]
    (marker,) = signs
    assert marker["properties"]["_title"] == "缺：交通标志"
    mx, my = marker["geometry"]["coordinates"]
    assert GEOD.inv(mx, my, *gate)[2] < 0.01  # drawn at the main gate, within a centimetre
    assert ["说明", "正门 150 米内无交通标志"] in marker["properties"]["_popup"]
    (school,) = [f for f in layers["schools"] if f["properties"]["_title"] == "设施小学"]
    assert school["properties"]["_style"]["fillColor"] == GRADE_COLOURS["orange"]
    assert ["风险等级", "橙（40 分），建议每周排查"] in school["properties"]["_popup"]
    assert spec["summary"]["facilities"] == 1 and spec["summary"]["missing"] == len(
        layers["missing"])
    assert any(item["label"].startswith("风险等级：红") for item in spec["legend"])
