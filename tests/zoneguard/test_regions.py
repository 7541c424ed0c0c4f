"""Region codes to names: every level, the municipalities' placeholders, unknown codes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoneguard import regions


@pytest.mark.parametrize(("code", "name", "full"), [
    ("11", "北京市", "北京市"),
    ("1101", "北京市", "北京市"),  # the source's 市辖区 row of a municipality
    ("110108", "海淀区", "北京市海淀区"),
    ("440307", "龙岗区", "广东省深圳市龙岗区"),
    ("440300", "深圳市", "广东省深圳市"),  # trailing 00 pairs name the parent level
    ("420111", "洪山区", "湖北省武汉市洪山区"),
    ("430103", "天心区", "湖南省长沙市天心区"),
    ("640402", "原州区", "宁夏回族自治区固原市原州区"),
    ("330182", "建德市", "浙江省杭州市建德市"),
    ("110101001", "东华门街道", "北京市东城区东华门街道"),
])
def test_codes_of_every_level_have_their_names(code: str, name: str, full: str) -> None:
    assert regions.name(code) == name
    assert regions.full_name(code) == full
    assert regions.labelled(code) == f"{name}（{code}）"


def test_a_community_code_is_named_from_the_installed_package() -> None:
    # 多福巷社区居委会 of 东华门街道 (国家统计局 2023), installed by scripts/assets.sh
    assert regions.name("110101001001") == "多福巷社区居委会"
    assert regions.full_name("110101001001") == "北京市东城区东华门街道多福巷社区居委会"


def test_unknown_codes_are_shown_as_they_are() -> None:
    assert regions.name("999999") == "999999" and regions.labelled("999999") == "999999"
    assert regions.full_name("110199") == "北京市（110199）"
    assert regions.name(None) == "" and regions.name("") == ""


def test_the_database_takes_township_and_community_codes(session: Session) -> None:
    from shapely.geometry import Point

    from tests.factories import add_premises, add_school

    add_school(session, "RG-12", Point(116.40, 39.91), region="110101001001")
    add_premises(session, "tobacco", 116.401, 39.91, region="110101001")
    stored = session.execute(text("SELECT region FROM premises WHERE region LIKE '110101%'"))
    assert [r.region for r in stored] == ["110101001"]
    with pytest.raises(IntegrityError), session.begin_nested():
        add_premises(session, "tobacco", 116.402, 39.91, region="1101010")


def test_check_names_every_accepted_length() -> None:
    from zoneguard.errors import ValidationError

    for good in ("11", "1101", "110101", "110101001", "110101001001"):
        assert regions.check(good) == good
    for bad in ("1", "110", "11010", "1101010", "11010100101", "abcdef"):
        with pytest.raises(ValidationError, match="或 9、12 位数字"):
            regions.check(bad)
