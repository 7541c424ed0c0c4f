"""The map builders apply the caller's scope themselves: routes only pass it on."""

from __future__ import annotations

from datetime import date

import pytest

from tests.zoneguard.maps.sample import REGION, build_city, map_settings
from zoneguard.errors import Forbidden, NotFound
from zoneguard.maps.city import city_map
from zoneguard.maps.permitted import permitted_map
from zoneguard.maps.school import school_map
from zoneguard.maps.screening import screening_map
from zoneguard.scope import Scope
from zoneguard.services.screening import screen

TOBACCO_ONLY = Scope(categories=frozenset({"tobacco"}))
ELSEWHERE = Scope(region_prefix="4401")


@pytest.fixture
def cfg(settings, tmp_path):
    return map_settings(settings, tmp_path)


def _ids(spec):
    layer = next(ov for ov in spec["overlays"] if ov["id"] == "premises")
    return {f["properties"]["id"] for f in layer["data"]["features"]}


def test_city_and_school_maps_show_only_the_scopes_categories(session, cfg):
    city = build_city(session)
    assert _ids(city_map(session, settings=cfg, region=REGION, scope=TOBACCO_ONLY)) \
        == {city.tobacco}
    assert _ids(school_map(session, code="4201020001", settings=cfg, scope=TOBACCO_ONLY)) \
        == {city.tobacco}


def test_maps_outside_the_scope_are_refused(session, cfg):
    build_city(session)
    result = screen(session, category="internet_cafe", point=(114.3025, 30.5507), region=REGION,
                    on=date(2024, 1, 1), settings=cfg)
    with pytest.raises(NotFound):
        school_map(session, code="4201020001", settings=cfg, scope=ELSEWHERE)
    with pytest.raises(NotFound):
        screening_map(session, screening_id=result.record_id, settings=cfg, scope=TOBACCO_ONLY)
    with pytest.raises(Forbidden):
        permitted_map(session, category="internet_cafe", settings=cfg, region=REGION,
                      scope=TOBACCO_ONLY)
    with pytest.raises(Forbidden):
        city_map(session, settings=cfg, region=REGION, scope=ELSEWHERE)
    assert screening_map(session, screening_id=result.record_id, settings=cfg)["notice"]
