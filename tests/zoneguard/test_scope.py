"""A caller's scope applied in one way: read filters narrowed, requests beyond it refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.zoneguard.maps.sample import REGION, build_city
from zoneguard.errors import Forbidden, NotFound
from zoneguard.queries.nearby import school_by_code
from zoneguard.reports.record import finding_scope
from zoneguard.scope import UNRESTRICTED, Scope

BUREAU = Scope(categories=frozenset({"tobacco", "internet_cafe"}), region_prefix="4201")


def test_no_filter_asked_gives_the_scope_itself() -> None:
    assert BUREAU.narrow(None, None) == ("4201", ["internet_cafe", "tobacco"])
    assert UNRESTRICTED.narrow(None, None) == (None, None)


def test_a_filter_inside_the_scope_is_kept() -> None:
    assert BUREAU.narrow("420111", ["tobacco"]) == ("420111", ["tobacco"])


def test_a_filter_beyond_the_scope_is_refused() -> None:
    with pytest.raises(Forbidden, match="不在您的权限范围"):
        BUREAU.narrow("4301", None)
    with pytest.raises(Forbidden, match="您的权限不含以下场所类别：酒吧"):
        BUREAU.narrow(None, ["tobacco", "bar"])


def test_a_school_outside_the_scope_is_not_found(session: Session) -> None:
    session.execute(text(
        "INSERT INTO school (code, name, levels, region, location, precision) VALUES "
        "('SC-1', '一小', ARRAY['primary'], '430111', "
        "ST_SetSRID(ST_MakePoint(112.9, 28.2), 4326), 'point')"))
    assert school_by_code(session, "SC-1", scope=Scope(region_prefix="43"))["region"] == "430111"
    assert school_by_code(session, "SC-1")["code"] == "SC-1"
    with pytest.raises(NotFound, match="学校代码为「SC-1」的学校不存在或不在您的权限范围内"):
        school_by_code(session, "SC-1", scope=BUREAU)


def test_a_finding_outside_the_scope_is_not_found(session: Session) -> None:
    city = build_city(session)
    assert finding_scope(session, city.cafe_finding, Scope(region_prefix=REGION[:4]))[0] \
        == "internet_cafe"
    with pytest.raises(NotFound, match=f"问题 {city.cafe_finding} 不存在"):
        finding_scope(session, city.cafe_finding, Scope(categories=frozenset({"lottery"})))
    with pytest.raises(NotFound):
        finding_scope(session, city.cafe_finding, Scope(region_prefix="43"))
