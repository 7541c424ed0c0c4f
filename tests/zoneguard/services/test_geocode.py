"""Geocoding for 受理初筛: the offline search over the registry and the 天地图 adapter."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from shapely.geometry import box
from sqlalchemy.orm import Session

from tests.factories import add_premises, add_school
from zoneguard.errors import ValidationError
from zoneguard.services.access.keys import UNRESTRICTED, Scope
from zoneguard.services.geocode import (
    GeocoderUnavailable,
    OfflineGeocoder,
    TiandituGeocoder,
    geocoder_for,
)
from zoneguard.settings import Settings


def _registry(session: Session) -> None:
    add_school(session, "G-1", box(112.98, 28.19, 112.982, 28.192), name="天心区第一小学",
               region="430103")
    add_school(session, "G-2", box(113.5, 28.5, 113.502, 28.502), name="第一小学分校",
               region="430104")
    add_premises(session, "tobacco", 112.99, 28.2, name="芙蓉烟酒店", region="430103",
                 address="长沙市天心区芙蓉中路100号")
    add_premises(session, "lottery", 112.991, 28.201, name="福彩 100%投注站",
                 region="430103", address="长沙市天心区芙蓉中路102号")


def test_every_word_must_match_name_or_address_best_first(session: Session) -> None:
    _registry(session)
    coder = OfflineGeocoder()
    found = coder.search(session, "第一小学", scope=UNRESTRICTED)
    assert [p.label for p in found] == ["第一小学分校", "天心区第一小学"]  # prefix match first
    school = found[1]
    assert school.kind == "school" and 112.98 <= school.lon <= 112.982
    hits = coder.search(session, "芙蓉中路  天心区", scope=UNRESTRICTED)
    assert {p.label for p in hits} == {"芙蓉烟酒店", "福彩 100%投注站"}
    assert hits[0].address is not None and "芙蓉中路" in hits[0].address
    assert (hits[0].lon, hits[0].lat) in ((112.99, 28.2), (112.991, 28.201))


def test_wildcards_in_the_query_are_taken_literally(session: Session) -> None:
    _registry(session)
    coder = OfflineGeocoder()
    assert [p.label for p in coder.search(session, "100%", scope=UNRESTRICTED)] == [
        "福彩 100%投注站"]
    assert coder.search(session, "%", scope=UNRESTRICTED)[0].label == "福彩 100%投注站"
    assert coder.search(session, "_小学", scope=UNRESTRICTED) == []


def test_search_stays_within_the_scope(session: Session) -> None:
    _registry(session)
    bureau = Scope(categories=frozenset({"tobacco"}), region_prefix="430103")
    labels = {p.label for p in OfflineGeocoder().search(session, "天心区", scope=bureau)}
    assert labels == {"天心区第一小学", "芙蓉烟酒店"}


def test_empty_or_long_query_is_refused(session: Session) -> None:
    with pytest.raises(ValidationError):
        OfflineGeocoder().search(session, "   ", scope=UNRESTRICTED)
    with pytest.raises(ValidationError):
        OfflineGeocoder().search(session, "路" * 101, scope=UNRESTRICTED)


def test_tianditu_adapter_builds_the_request_and_reads_the_answer(session: Session) -> None:
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return json.dumps({"status": "0", "msg": "ok", "location": {
            "lon": 116.30, "lat": 39.98, "keyWord": "北京市海淀区"}}).encode()

    coder = TiandituGeocoder("secret-key", fetch=fetch)
    (place,) = coder.search(session, "北京市海淀区", scope=UNRESTRICTED)
    assert (place.lon, place.lat, place.kind) == (116.30, 39.98, "tianditu")
    query = parse_qs(urlparse(asked[0]).query)
    assert urlparse(asked[0]).netloc == "api.tianditu.gov.cn"
    assert json.loads(query["ds"][0]) == {"keyWord": "北京市海淀区"}
    assert query["tk"] == ["secret-key"]
    nothing = TiandituGeocoder("k", fetch=lambda _u: b'{"status": "101", "msg": "no"}')
    assert nothing.search(session, "无此地", scope=UNRESTRICTED) == []

    def down(_url: str) -> bytes:
        raise OSError("connection refused")

    with pytest.raises(GeocoderUnavailable):
        TiandituGeocoder("k", fetch=down).search(session, "x", scope=UNRESTRICTED)


def test_geocoder_follows_the_settings(settings: Settings) -> None:
    assert isinstance(geocoder_for(settings), OfflineGeocoder)
    chosen = settings.model_copy(update={"geocoder": "tianditu", "tianditu_key": "k"})
    assert isinstance(geocoder_for(chosen), TiandituGeocoder)
    with pytest.raises(ValueError, match="TIANDITU_KEY"):
        Settings(geocoder="tianditu", tianditu_key=None)
