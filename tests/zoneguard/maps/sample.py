"""A small sample city shared by the map, report, API and browser tests (rolled back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely.geometry import box
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_gate, add_premises, add_school, write_rules
from zoneguard.settings import Settings

XSS = "<img src=x onerror=alert(1)>"
REGION = "420102"


@dataclass
class City:
    """Ids of the sample city's rows."""

    school: int
    kindergarten: int
    gate: int
    cafe: int
    xss: int
    tobacco: int
    lottery: int
    closed: int
    elsewhere: int
    cafe_finding: int
    xss_finding: int
    tobacco_finding: int


def map_settings(settings: Settings, tmp: Path, basemap: str = "none") -> Settings:
    """Test settings with the test rule set and a basemap (none: offline)."""
    return settings.model_copy(update={"rules_dir": write_rules(tmp / "rules"),
                                       "basemap": basemap, "review_margin_m": 3.0})


def build_city(session: Session) -> City:
    """Two schools, five premises (one named like an XSS attack), three findings."""
    school = add_school(session, "4201020001", box(114.300, 30.550, 114.302, 30.5515),
                        name="实验小学", levels=("primary",), region=REGION, enrolment=900)
    kindergarten = add_school(session, "4201020002", box(114.320, 30.560, 114.321, 30.561),
                              name="阳光幼儿园", levels=("kindergarten",), region=REGION)
    gate = add_gate(session, school, 114.301, 30.550)
    cafe = add_premises(session, "internet_cafe", 114.3028, 30.5507, name="星际网吧",
                        licence_no="WB-001", region=REGION, address="解放路 1 号",
                        issued_on=date(2020, 1, 1))
    xss = add_premises(session, "internet_cafe", 114.301, 30.5529, name=XSS, licence_no="WB-002",
                       region=REGION, address="<b>粗体</b>路")
    tobacco = add_premises(session, "tobacco", 114.2990, 30.5507, name="便民烟酒店",
                           licence_no="YC-001", region=REGION)
    lottery = add_premises(session, "lottery", 114.310, 30.550, name="体彩 0042",
                           licence_no="CP-001", region=REGION)
    closed = add_premises(session, "internet_cafe", 114.3012, 30.5512, name="已关闭网吧",
                          licence_no="WB-003", region=REGION, status="closed")
    elsewhere = add_premises(session, "internet_cafe", 114.40, 30.60, name="外区网吧",
                             licence_no="WB-009", region="420103")
    cafe_finding = add_finding(session, school, cafe, rule_id="t.internet_cafe",
                               distance_m=76.7, threshold_m=200, state="found",
                               line=((114.3028, 30.5507), (114.302, 30.5507)))
    xss_finding = add_finding(session, school, xss, rule_id="t.internet_cafe", distance_m=155.3,
                              threshold_m=200, state="assigned", assignee="王科长",
                              deadline=date(2020, 6, 30),
                              line=((114.301, 30.5529), (114.301, 30.5515)))
    tobacco_finding = add_finding(session, school, tobacco, rule_id="t.tobacco", verdict="review",
                                  distance_m=95.9, threshold_m=100, state="rectifying",
                                  line=((114.299, 30.5507), (114.300, 30.5507)))
    return City(school, kindergarten, gate, cafe, xss, tobacco, lottery, closed, elsewhere,
                cafe_finding, xss_finding, tobacco_finding)
