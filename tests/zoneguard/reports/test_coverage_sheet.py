"""设施覆盖率 workbook: district figures against the rule's target, each school's gaps."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_school
from tests.zoneguard.services.facilities.conftest import campus, offset, requirement_rules
from zoneguard.reports.coverage_sheet import DISTRICT_HEADERS, SCHOOL_HEADERS, coverage_bytes
from zoneguard.rules import RuleSet
from zoneguard.services.facilities.registry import add_facility

ON = date(2026, 6, 1)


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    """The test bans and the requirements of 42 (tests/zoneguard/services/facilities)."""
    return requirement_rules(tmp_path / "rules")


def test_coverage_workbook_counts_and_explains(session: Session, rules: RuleSet) -> None:
    centres = [offset(114.30, 30.55, 90, 2000.0 * n) for n in (1, 2)]
    for n, (lon, lat) in enumerate(centres, 1):
        sid = add_school(session, f"CW{n}", campus(lon, lat), region="420102",
                         name=f"第{n}小学")
        add_gate(session, sid, *offset(lon, lat, 180, 50), kind="main")
    # a 警示标牌 190 m east of the first campus's east wall: within its 200 m, none at the second
    add_facility(session, kind="警示标牌", name="警示牌", region="420102",
                 lon=offset(*centres[0], 90, 50 + 190)[0], lat=centres[0][1])
    wb = load_workbook(BytesIO(coverage_bytes(session, rules=rules, on=ON, region="420102")))
    assert wb.sheetnames == ["按区县", "按学校"]
    rows = list(wb["按区县"].iter_rows(min_row=4, values_only=True))
    assert rows[0] == DISTRICT_HEADERS
    sign = next(r for r in rows[1:] if r[1] == "t.warning_sign")
    assert sign[2:8] == ("警示标牌", 2, 1, "50.0%", "100%", "未达标")
    assert "测试机关" in sign[8] and "confidence" not in sign[8]
    assert sign[0].endswith("（420102）")
    schools = {r[1]: r for r in wb["按学校"].iter_rows(min_row=2, values_only=True)}
    assert list(wb["按学校"].iter_rows(max_row=1, values_only=True))[0] == SCHOOL_HEADERS
    assert "t.warning_sign" in schools["CW1"][3] and "t.warning_sign" not in schools["CW1"][4]
    assert "t.warning_sign（警示标牌）" in schools["CW2"][4]
    assert "学校 200 米内无警示标牌" in schools["CW2"][5]
