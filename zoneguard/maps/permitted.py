"""Permitted-area map: where in a region a new premises of one category may open by distance.

The area is the region's extent minus the union of the schools' zones (geography buffers at
each applicable rule distance plus the review margin; point-only schools also plus the
assumed campus radius). It is drawn for applicants to look before they apply; the verdict
on an application is always the screening's, which measures exact distances.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.errors import ValidationError
from zoneguard.evaluation import reach_m
from zoneguard.maps import data, layers, style
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.city import school_overlay
from zoneguard.maps.data import BBox
from zoneguard.maps.page import new_spec
from zoneguard.rules import RuleSet
from zoneguard.scope import UNRESTRICTED, Scope
from zoneguard.services.registry import check_bbox
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings, local_today

NOTICE = ("绿色：按距离规则可开设{label}的区域（已扣除各学校 {distances} 米范围及 {margin:g} 米"
          "测量余量）。\n红色：禁止或需复核的区域。\n本图仅供申请前参考，不作审批依据；"
          "是否准许以选址筛查结论为准（筛查逐点精确测距，并考虑校门、步行距离和学段等规则）。")


def permitted_map(
    session: Session, *, category: str, settings: Settings, region: str | None = None,
    bbox: BBox | None = None, rule_set: RuleSet | None = None, on: date | None = None,
    scope: Scope = UNRESTRICTED,
) -> dict[str, Any]:
    """Spec of the permitted-area map of one category in a region (or a WGS 84 box), in `scope`."""
    region, _ = scope.narrow(region, [category])
    rules = rule_set or current_rule_set(settings)
    rules.check_category(category)
    day = on or local_today(settings.timezone)
    reach = reach_m(rules, category) + settings.review_margin_m \
        + settings.point_school_radius_m
    extent = check_bbox(bbox) if bbox is not None else data.region_extent(
        session, region=region, pad_m=reach)
    if extent is None:
        where = regions.full_name(region) if region else "所选范围"
        raise ValidationError(f"{where}内没有学校或场所，无法确定地图范围：请指定地图范围（bbox）")
    schools = data.schools_near_box(session, bbox=extent, reach_m=reach, on=day)
    if region is not None:  # a region's map shows that region's schools only, box or not
        schools = [s for s in schools if str(s["region"] or "").startswith(region)]
    specs = data.zone_specs(rules, schools, categories=[category], on=day, region=region,
                            extra_m=settings.review_margin_m)
    point_ids = {s["id"] for s in schools if s["precision"] == "point"}
    specs = [replace(z, distance_m=z.distance_m + settings.point_school_radius_m)
             if z.school_id in point_ids else z for z in specs]
    area = data.permitted_area(session, bbox=extent, specs=specs)
    label = style.category_label(category)
    spec = new_spec(f"{label} · 可选址区域示意图"
                    + (f"（{regions.full_name(region)}）" if region else ""),
                    basemap_for(settings))
    overlays = [
        layers.overlay("permitted", "可选址区域", [layers.feature(
            area["permitted"], _title="可选址区域（示意）",
            _popup=[["类别", label], ["面积", f"{area['permitted_m2'] / 1e6:.3f} 平方千米"],
                    ["说明", "最终以选址筛查结论为准"]])], group="选址",
            style_={"color": style.PERMITTED_COLOUR, "fillColor": style.PERMITTED_COLOUR,
                    "weight": 1, "fillOpacity": 0.25}),
        layers.overlay("blocked", "禁止或需复核区域", [] if area["blocked"] is None else [
            layers.feature(area["blocked"], _title="禁止或需复核区域（示意）",
                           _popup=[["类别", label], ["说明", "在此选址需经筛查，通常不予准许"]])],
            group="选址", style_={"color": style.BLOCKED_COLOUR, "fillColor": style.BLOCKED_COLOUR,
                                 "weight": 1, "fillOpacity": 0.3}),
        school_overlay(schools),
    ]
    basemap = basemap_for(settings)
    layers.shift_for_display(overlays, basemap)
    spec["overlays"] = overlays
    spec["bounds"] = [[extent[1], extent[0]], [extent[3], extent[2]]]
    distances = "、".join(f"{d:g}" for d in sorted({z.distance_m - settings.review_margin_m
                                                   for z in specs if z.school_id not in point_ids}))
    spec["notice"] = NOTICE.format(label=label, distances=distances or "—",
                                   margin=settings.review_margin_m)
    spec["legend"] = [
        {"label": "可选址区域（示意）", "colour": style.PERMITTED_COLOUR, "shape": "area"},
        {"label": "禁止或需复核区域", "colour": style.BLOCKED_COLOUR, "shape": "area"},
        {"label": "学校校园", "colour": style.SCHOOL_COLOUR, "shape": "area"}]
    spec["summary"] = {"schools": len(schools), "zones": len(specs), "extent": list(extent),
                       "permitted_share": area["permitted_m2"] / area["extent_m2"]
                       if area["extent_m2"] else 0.0}
    return spec
