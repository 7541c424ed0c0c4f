"""Screening map: the applied-for point, conflicting schools, zones, measured lines, verdict.

Everything comes from the stored screening record (its `result` JSON), as it was answered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.errors import NotFound
from zoneguard.maps import data, layers, style
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.city import school_overlay, zone_overlays
from zoneguard.maps.page import new_spec
from zoneguard.models import ScreeningRecord
from zoneguard.rules import RuleSet
from zoneguard.scope import Scope
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings


def screening_record(session: Session, screening_id: int,
                     scope: Scope | None = None) -> ScreeningRecord:
    """The stored screening (NotFound if there is none or it lies outside `scope`)."""
    record = session.get(ScreeningRecord, screening_id)
    if record is None or (scope is not None and not scope.allows(
            category=record.category, region=record.region)):
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"选址筛查记录 {screening_id} 不存在{outside}")
    return record


def applied_feature(record: ScreeningRecord) -> layers.Feature:
    """The applied-for point with the request and the verdict."""
    result = record.result
    loc = result["location"]
    return layers.feature(
        layers.point(loc["lon"], loc["lat"]), _verdict=record.verdict,
        _title=f"申请点位 · {style.category_label(record.category)}",
        _tooltip=f"申请点位：{style.verdict_label(record.verdict)}", _tooltip_permanent=True,
        _popup=[["结论", style.verdict_label(record.verdict)], ["筛查编号", record.id],
                ["行政区划", regions.labelled(record.region)], ["筛查日期", result.get("on")],
                ["规则集版本", record.rule_set_version], ["筛查时间", record.created_at],
                ["经办", record.actor]],
        _style={"color": "#000000", "fillColor": style.VERDICT_COLOURS[record.verdict],
                "radius": 9, "weight": 2, "fillOpacity": 1})


def conflict_lines(result: dict[str, Any]) -> list[layers.Feature]:
    """The measured lines of the record's conflicts, labelled with their distances."""
    out = []
    for conflict in result.get("conflicts", []):
        if conflict.get("line") is None:
            continue
        coords = conflict.get("path") or conflict["line"]
        out.append(layers.feature(
            {"type": "LineString", "coordinates": coords}, _verdict=conflict["verdict"],
            _tooltip=style.distance_text(conflict["distance_m"]), _tooltip_permanent=True,
            _title=f"至 {conflict['school']['name']}",
            _popup=[["距离", style.distance_text(conflict["distance_m"])],
                    ["规定距离", style.distance_text(conflict["threshold_m"])],
                    ["测量方式", style.metric_label(conflict["metric"])],
                    ["结论", style.verdict_label(conflict["verdict"])],
                    ["说明", "；".join(conflict.get("reasons", []))],
                    ["规则", conflict["rule_id"]], ["依据", conflict.get("basis")]],
            _style={"color": style.VERDICT_COLOURS.get(conflict["verdict"], "#d62728")}))
    return out


def screening_map(
    session: Session, *, screening_id: int, settings: Settings,
    rule_set: RuleSet | None = None, link_query: str = "", scope: Scope | None = None,
) -> dict[str, Any]:
    """Spec of the map of one stored screening (NotFound outside the caller's `scope`)."""
    record = screening_record(session, screening_id, scope)
    rules = rule_set or current_rule_set(settings)
    basemap = basemap_for(settings)
    result = record.result
    day = date.fromisoformat(result.get("on") or record.created_at.date().isoformat())
    spec = new_spec(f"选址筛查 #{record.id} · {style.category_label(record.category)} · "
                    f"{style.verdict_label(record.verdict)}", basemap)
    spec["link_query"] = link_query
    ids = sorted({c["school"]["id"] for c in result.get("conflicts", [])})
    schools = data.schools(session, ids=ids, on=day) if ids else []
    overlays = zone_overlays(session, rules, schools, categories=[record.category], on=day,
                             region=record.region) if schools else []
    overlays.append(school_overlay(schools))
    overlays.append(layers.overlay("lines", "测量线", conflict_lines(result), group="测距",
                                   style_={"weight": 3}))
    overlays.append(layers.overlay("applied", "申请点位", [applied_feature(record)],
                                   group="申请"))
    layers.shift_for_display(overlays, basemap)
    spec["overlays"] = overlays
    spec["bounds"] = layers.bounds(overlays)
    spec["max_fit_zoom"] = 18
    reasons = result.get("reasons") or []
    spec["notice"] = "\n".join([f"结论：{style.verdict_label(record.verdict)}", *reasons,
                                f"规则集版本：{record.rule_set_version}"])
    spec["legend"] = layers.legend([record.category], zones=[
        float(ov["id"].split(":")[1]) for ov in overlays if ov["id"].startswith("zones:")])
    spec["summary"] = {"conflicts": len(result.get("conflicts", [])), "schools": len(schools)}
    return spec
