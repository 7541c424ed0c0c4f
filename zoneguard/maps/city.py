"""City violation map: campuses, zones per rule distance, premises, findings, measured lines.

Premises are coloured by category and ringed by verdict, clustered in the page, or served as
vector tiles beyond a few thousand (when the caller can serve tiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.maps import data, layers, style
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.facility_layers import colour_by_risk, facility_overlays, risk_legend
from zoneguard.maps.page import new_spec
from zoneguard.rules import RuleSet
from zoneguard.scope import UNRESTRICTED, Scope
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings, local_today

LARGE_MAP_FEATURES = 3000  # beyond this many premises the API serves them as vector tiles


def zone_overlays(session: Session, rule_set: RuleSet, schools: list[dict[str, Any]], *,
                  categories: list[str], on: date, region: str | None) -> list[dict[str, Any]]:
    """One overlay per distinct zone distance (display buffers), largest first."""
    specs = data.zone_specs(rule_set, schools, categories=categories, on=on, region=region)
    names = {s["id"]: s["name"] for s in schools}
    feats = layers.zone_features(specs, data.zone_geometries(session, specs), names)
    distances = sorted({z.distance_m for z in specs}, reverse=True)
    return [layers.overlay(f"zones:{d:g}", f"{d:g} 米范围",
                           [f for f in feats if f["properties"]["distance_m"] == d],
                           group="安全区", style_={"weight": 1, "fillOpacity": 0.12,
                                                  "dashArray": "4 3"})
            for d in distances]


def school_overlay(schools: list[dict[str, Any]]) -> dict[str, Any]:
    """Campus polygons and point-only schools."""
    return layers.overlay("schools", "学校", layers.school_features(schools), group="基础",
                          style_={"color": style.SCHOOL_COLOUR, "fillColor": style.SCHOOL_COLOUR,
                                  "weight": 2, "fillOpacity": 0.3, "radius": 7})


def city_map(
    session: Session, *, settings: Settings, region: str | None = None,
    categories: Sequence[str] | None = None, rule_set: RuleSet | None = None,
    on: date | None = None, tiles_url: str | None = None, link_query: str = "",
    scope: Scope = UNRESTRICTED,
) -> dict[str, Any]:
    """Spec of the city map within `scope`; with `tiles_url`, premises come as vector tiles."""
    region, categories = scope.narrow(region, list(categories) if categories else None)
    if tiles_url is not None:  # the tiles carry the same (narrowed) filter as the page
        tiles_url += "?" + urlencode([("region", region)] * (region is not None)
                                     + [("category", c) for c in categories or []])
    rules = rule_set or current_rule_set(settings)
    day = on or local_today(settings.timezone)
    basemap = basemap_for(settings)
    cats = sorted(set(categories)) if categories else None
    title = "学校周边安全区域 · 违规分布图" + (f"（{regions.full_name(region)}）" if region else "")
    if cats:
        title += " · " + "、".join(style.category_label(c) for c in cats)
    spec = new_spec(title, basemap)
    spec["link_query"] = link_query
    spec["labels"] = {"categories": style.CATEGORY_LABELS, "verdicts": style.VERDICT_LABELS,
                      "states": style.STATE_LABELS,
                      "category_colours": dict(style.CATEGORY_COLOURS),
                      "verdict_colours": style.VERDICT_COLOURS}
    schools = data.schools(session, region=region, on=day)
    zone_cats = cats or sorted(rules.categories())
    overlays = zone_overlays(session, rules, schools, categories=zone_cats, on=day, region=region)
    campuses = school_overlay(schools)
    colour_by_risk(session, campuses["data"]["features"], on=day, region=region)
    overlays.append(campuses)
    overlays.extend(facility_overlays(session, rules, on=day, region=region))
    total = data.count_premises(session, region=region, categories=cats)
    if tiles_url is not None and total > LARGE_MAP_FEATURES:
        flagged = data.premises(session, region=region, categories=cats, flagged=True,
                                limit=LARGE_MAP_FEATURES)
        overlays.append({"id": "premises", "name": f"场所（矢量切片，{total}）", "group": "场所",
                         "type": "tiles", "layer": "premises", "filtered": True, "count": total,
                         "url": tiles_url})
        spec["filters"] = layers.filters_from_counts(*_counts(session, region, cats))
        spec["canvas"] = True
    else:
        rows = data.premises(session, region=region, categories=cats)
        flagged = [r for r in rows if r.get("finding_id") is not None]
        feats = [layers.premises_feature(r) for r in rows]
        overlays.append(layers.overlay("premises", "场所", feats, group="场所", cluster=True,
                                       filtered=True))
        spec["filters"] = layers.premises_filters(rows)
    rings = [layers.premises_feature(r) for r in flagged]
    for ring in rings:
        ring["properties"]["_style"].update(radius=11, fill=False, weight=3)
    overlays.append(layers.overlay("findings", "问题场所（禁止/需复核）", rings, group="问题"))
    lines = data.finding_lines(session, region=region, categories=cats, limit=LARGE_MAP_FEATURES)
    overlays.append(layers.overlay("lines", "测量线", layers.line_features(lines), group="问题",
                                   style_={"weight": 2}))
    layers.shift_for_display(overlays, basemap)
    spec["overlays"] = overlays
    spec["bounds"] = layers.bounds(overlays)
    spec["legend"] = layers.legend(
        cats or [c["value"] for c in spec["filters"]["categories"]],
        zones=[float(ov["id"].split(":")[1]) for ov in overlays if ov["id"].startswith("zones:")],
        extra=risk_legend())
    duties = {ov["id"]: len(ov["data"]["features"]) for ov in overlays
              if ov["id"] in ("facilities", "missing")}
    spec["summary"] = {**duties, "schools": len(schools), "premises": total,
                       "findings": len(rings),
                       "lines": len(lines), "tiles": tiles_url is not None
                       and total > LARGE_MAP_FEATURES}
    return spec


def _counts(session: Session, region: str | None,
            cats: list[str] | None) -> tuple[dict[str, int], dict[str, int]]:
    params = {"region": region, "categories": cats, "hidden": list(data.HIDDEN_STATUSES)}
    rows = session.execute(text(
        f"SELECT p.category, coalesce(w.verdict, 'none') AS verdict, count(*) AS n "
        f"FROM premises p {data.WORST_FINDING} WHERE {data.PREMISES_FILTER} GROUP BY 1, 2"),
        params).all()
    by_cat: dict[str, int] = {}
    by_verdict: dict[str, int] = {}
    for cat, verdict, n in rows:
        by_cat[cat] = by_cat.get(cat, 0) + n
        by_verdict[verdict] = by_verdict.get(verdict, 0) + n
    return by_cat, by_verdict
