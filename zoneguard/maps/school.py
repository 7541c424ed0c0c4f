"""School map (一校一图): campus, gates, every rule's zone, every premises within reach.

Each premises is drawn with its measured line and distance, judged on the screening path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zoneguard.evaluation import Judgement, worst
from zoneguard.maps import data, layers, style
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.city import school_overlay, zone_overlays
from zoneguard.maps.page import new_spec
from zoneguard.queries.nearby import Nearby, premises_near, school_by_code
from zoneguard.rules import RuleSet
from zoneguard.scope import UNRESTRICTED, Scope
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings, local_today


def _path_coordinates(judgement: Judgement) -> list[list[float]] | None:
    path = getattr(judgement, "path", None)  # walking distance adds the walked path
    coords = getattr(path, "coords", path)
    if coords is None:
        return None
    points = [[float(c[0]), float(c[1])] for c in coords]
    return points if len(points) >= 2 else None


def measured_line(item: Nearby, judgement: Judgement) -> layers.Feature | None:
    """The measured line (or walked path) of one judgement, labelled with its distance."""
    coords = _path_coordinates(judgement)
    if coords is None and judgement.line is not None:
        coords = [list(judgement.line[0]), list(judgement.line[1])]
    if coords is None:
        return None
    distance = judgement.distance_m if judgement.distance_m is not None \
        else judgement.school.boundary_m
    finding = item.findings.get(judgement.rule.rule.id)
    return layers.feature(
        {"type": "LineString", "coordinates": coords}, _verdict=judgement.verdict.value,
        _tooltip=style.distance_text(distance), _tooltip_permanent=True,
        _title=f"{item.premises['name']} · {judgement.rule.rule.id}",
        _popup=[["距离", style.distance_text(judgement.distance_m)],
                ["规定距离", style.distance_text(judgement.threshold_m)],
                ["测量方式", style.metric_label(judgement.metric)],
                ["结论", style.verdict_label(judgement.verdict.value)],
                ["说明", "；".join(judgement.reasons)], ["依据", judgement.rule.rule.basis],
                ["处置状态", style.state_label(finding["state"] if finding else None)]],
        _style={"color": style.VERDICT_COLOURS[judgement.verdict.value],
                "dashArray": None if judgement.verdict.value != "allowed" else "4 4"})


def premises_row(item: Nearby) -> dict[str, Any]:
    """The premises as a `maps.data.premises` row, with its worst judgement and finding."""
    top = worst(item.judgements)
    finding = item.findings.get(top.rule.rule.id) if top is not None else None
    verdict = None if top is None or top.verdict.value == "allowed" else top.verdict.value
    return {**item.premises, "verdict": verdict, "finding_id": finding and finding["id"],
            "state": finding and finding["state"], "school_name": top and top.school.school_name,
            "distance_m": top and top.distance_m, "metric": top and top.metric,
            "rule_id": top and top.rule.rule.id}


def school_map(
    session: Session, *, code: str, settings: Settings, rule_set: RuleSet | None = None,
    on: date | None = None, categories: Sequence[str] | None = None, region: str | None = None,
    link_query: str = "", scope: Scope = UNRESTRICTED,
) -> dict[str, Any]:
    """Spec of one school's map within the caller's `scope` (school and premises shown)."""
    school = school_by_code(session, code, scope=scope)
    region, cats = scope.narrow(region, list(categories) if categories else None)
    rules = rule_set or current_rule_set(settings)
    day = on or local_today(settings.timezone)
    nearby = premises_near(session, school, rule_set=rules, settings=settings, on=day,
                           categories=cats, region=region)
    return school_map_of(session, school, nearby, settings=settings, rule_set=rules, on=day,
                         categories=cats, link_query=link_query)


def school_map_of(
    session: Session, school: dict[str, Any], nearby: Sequence[Nearby], *, settings: Settings,
    rule_set: RuleSet, on: date, categories: Sequence[str] | None = None, link_query: str = "",
) -> dict[str, Any]:
    """Spec of one school's map from its row and its premises as already read."""
    rules, day = rule_set, on
    basemap = basemap_for(settings)
    spec = new_spec(f"{school['name']}（{school['code']}）周边场所测距图", basemap)
    spec["link_query"] = link_query
    cats = sorted(set(categories)) if categories else sorted(rules.categories())
    overlays = zone_overlays(session, rules, [school], categories=cats, on=day,
                             region=school["region"])
    overlays.append(school_overlay([school]))
    gates = data.gates(session, school_ids=[school["id"]])
    overlays.append(layers.overlay("gates", "校门", layers.gate_features(
        gates, {school["id"]: school["name"]}), group="基础",
        style_={"color": "#000000", "fillColor": "#ffd700", "radius": 5, "fillOpacity": 1}))
    overlays.append(layers.overlay(
        "premises", "场所", [layers.premises_feature(premises_row(i)) for i in nearby],
        group="场所", filtered=True, cluster=True))
    lines = [line for item in nearby for j in item.judgements
             if (line := measured_line(item, j)) is not None]
    overlays.append(layers.overlay("lines", "测量线", lines, group="测距", style_={"weight": 2}))
    layers.shift_for_display(overlays, basemap)
    spec["overlays"] = overlays
    spec["filters"] = layers.premises_filters([premises_row(i) for i in nearby])
    spec["bounds"] = layers.bounds(overlays)
    spec["max_fit_zoom"] = 18
    spec["legend"] = layers.legend(
        [i.premises["category"] for i in nearby],
        zones=[float(ov["id"].split(":")[1]) for ov in overlays if ov["id"].startswith("zones:")],
        extra=[{"label": "校门", "colour": "#ffd700", "border": "#000000"}])
    spec["summary"] = {"premises": len(nearby), "lines": len(lines), "gates": len(gates)}
    return spec
