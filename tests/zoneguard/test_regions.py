"""Region codes to names: every level, the municipalities' placeholders, unknown codes."""

from __future__ import annotations

import pytest

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
