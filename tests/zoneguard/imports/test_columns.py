"""Aliases and value mapping of imported columns."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoneguard.imports import columns as C


def test_chinese_and_english_headers_resolve_case_and_space_insensitively() -> None:
    cols, warnings = C.resolve_columns(
        [" 学校名称 ", "学段", "学校标识码", "在校生数", "LNG", "Lat ", "区县", "行政区划代码"],
        "schools", None)
    assert cols == {"name": " 学校名称 ", "levels": "学段", "code": "学校标识码",
                    "enrolment": "在校生数", "lon": "LNG", "lat": "Lat ",
                    "region": "行政区划代码"}
    assert warnings == []


def test_district_name_is_not_a_region_code() -> None:
    cols, _ = C.resolve_columns(["名称", "adname", "区县", "经度", "纬度"], "premises", None)
    assert "region" not in cols


def test_premises_aliases_include_licence_and_entrance() -> None:
    cols, _ = C.resolve_columns(
        ["零售户", "许可证编号", "经营者", "发证日期", "有效期至", "入口经度", "入口纬度", "状态"],
        "premises", None)
    assert cols["name"] == "零售户" and cols["licence_no"] == "许可证编号"
    assert cols["operator"] == "经营者" and cols["entrance_lat"] == "入口纬度"
    assert cols["issued_on"] == "发证日期" and cols["expires_on"] == "有效期至"


def test_gate_code_column_means_the_school_code() -> None:
    cols, _ = C.resolve_columns(["学校代码", "类型", "x", "y"], "gates", None)
    assert cols == {"school_code": "学校代码", "kind": "类型", "lon": "x", "lat": "y"}


def test_column_map_overrides_aliases() -> None:
    cols, _ = C.resolve_columns(["name", "单位", "E", "N"], "schools",
                                {"单位": "name", "E": "lon", "N": "lat"})
    assert cols["name"] == "单位" and cols["lon"] == "E" and cols["lat"] == "N"


def test_two_columns_for_one_field_warn() -> None:
    cols, warnings = C.resolve_columns(["名称", "name"], "schools", None)
    assert cols["name"] == "名称"
    assert warnings == ["“名称”、“name” 这几列都像“名称”列；已采用“名称”列，其余不导入"]


@pytest.mark.parametrize(
    ("value", "levels"),
    [
        ("幼儿园", ["kindergarten"]),
        ("小学", ["primary"]),
        ("初中", ["secondary"]),
        ("完全中学", ["secondary"]),
        ("九年一贯制", ["primary", "secondary"]),
        ("十二年一贯制学校", ["primary", "secondary"]),
        ("中等职业学校", ["vocational"]),
        ("职业学校", ["vocational"]),
        ("特殊教育", ["special"]),
        ("高校", ["higher"]),
        ("小学;初中", ["primary", "secondary"]),
        ("幼儿园、小学", ["kindergarten", "primary"]),
        ("Primary, Secondary", ["primary", "secondary"]),
        ("科教文化服务;学校;中学", ["secondary"]),
        ("科教文化服务;学校;高等院校|科教文化服务;培训机构;培训机构", ["higher"]),
        ("科教文化服务;学校;职业技术学校", ["vocational"]),
        ("科教文化服务;学校;幼儿园", ["kindergarten"]),
    ],
)
def test_levels_are_mapped(value: str, levels: list[str]) -> None:
    assert C.parse_levels(value) == levels


@pytest.mark.parametrize("value", ["学校", "培训机构", "科教文化服务;培训机构;培训机构",
                                   "科教文化服务;学校;成人教育|科教文化服务;学校;高等院校", ""])
def test_unknown_levels_raise(value: str) -> None:
    with pytest.raises(ValueError):
        C.parse_levels(value)


@pytest.mark.parametrize(
    ("value", "category"),
    [("网吧", "internet_cafe"), ("KTV", "entertainment"), ("游艺", "entertainment"),
     ("彩票", "lottery"), ("卷烟", "tobacco"), ("加油站", "gas_station"),
     ("烟花爆竹", "fireworks"), ("Tobacco", "tobacco"), ("pub", "pub")],
)
def test_categories_are_mapped(value: str, category: str) -> None:
    assert C.parse_category(value, None) == category


def test_category_outside_known_categories_is_refused() -> None:
    with pytest.raises(ValueError, match="不在现行规则中"):
        C.parse_category("pub", {"tobacco", "lottery"})
    with pytest.raises(ValueError, match="无法识别的场所类别"):
        C.parse_category("酒吧", None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2021-09-01", dt.date(2021, 9, 1)), ("2021/9/1", dt.date(2021, 9, 1)),
     ("2021年9月1日", dt.date(2021, 9, 1)), ("20210901", dt.date(2021, 9, 1)),
     ("2021-09-01 00:00:00", dt.date(2021, 9, 1)), ("1998", dt.date(1998, 1, 1)),
     ("1998年", dt.date(1998, 1, 1)), (dt.datetime(2020, 5, 4, 8), dt.date(2020, 5, 4)),
     (2003.0, dt.date(2003, 1, 1)), (None, None), ("  ", None)],
)
def test_dates_parse(value: object, expected: dt.date | None) -> None:
    assert C.parse_date(value) == expected


@pytest.mark.parametrize("value", ["2021-13-01", "not a date", "21/9/1", "2021-02-30"])
def test_bad_dates_raise(value: str) -> None:
    with pytest.raises(ValueError):
        C.parse_date(value)


def test_status_and_gate_kind_mapping() -> None:
    assert C.parse_status(None) == "active"
    assert C.parse_status("已吊销") == "revoked"
    assert C.parse_status("注销") == "closed"
    with pytest.raises(ValueError):
        C.parse_status("maybe")
    assert C.parse_gate_kind("正门") == ("main", True)
    assert C.parse_gate_kind("东门") == ("other", False)


def test_counts_and_regions() -> None:
    assert C.parse_count("1,234") == 1234
    assert C.parse_count(12.0) == 12
    with pytest.raises(ValueError, match="不能是负数"):
        C.parse_count("-3")
    with pytest.raises(ValueError):
        C.parse_count("很多")
    assert C.parse_region(310104.0) == "310104"
    assert C.parse_region(None, "430103") == "430103"
    with pytest.raises(ValueError, match="GB/T 2260"):
        C.parse_region("徐汇区")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_through_text(value: float) -> None:
    assert C.parse_number(repr(value)) == value
    assert C.parse_number(value) == value
