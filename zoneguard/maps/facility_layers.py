"""Map layers of the campus-safety duties: facilities, 缺 markers at the gates, risk grades."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zoneguard.facility_kinds import kind_name
from zoneguard.maps import layers
from zoneguard.risk_formula import risk_formula
from zoneguard.rules import RuleSet
from zoneguard.services.cases.risk import school_risks
from zoneguard.services.facilities.measure import assess
from zoneguard.services.facilities.registry import as_dicts, list_facilities

FACILITY_COLOUR = "#1e8449"
MISSING_COLOUR = "#c0392b"
GRADE_COLOURS = {"red": "#c0392b", "orange": "#e67e22", "yellow": "#f1c40f", "blue": "#2e86c1"}


def facility_overlays(session: Session, rules: RuleSet, *, on: date,
                      region: str | None) -> list[dict[str, Any]]:
    """Registered facilities, and a 缺 marker at each gate (or campus) a requirement misses."""
    found = as_dicts(session, list_facilities(session, region=region, limit=20_000))
    points = [layers.feature(
        layers.point(f["location"]["lon"], f["location"]["lat"]), id=f["id"],
        _title=f"{f['kind_name']}：{f['name']}", _tooltip=f["kind_name"],
        _popup=[["类型", f["kind_name"]], ["设施编号", f["code"]],
                ["朝向", None if f["direction_deg"] is None else f"{f['direction_deg']:g}°"]],
        _style={"color": FACILITY_COLOUR, "fillColor": FACILITY_COLOUR, "radius": 4,
                "fillOpacity": 0.9}) for f in found]
    missing = []
    for school in assess(session, rules=rules, on=on, region=region):
        for assessment in school.assessments:
            name = kind_name(assessment.requirement.kind)
            for target, reason in zip(assessment.missing, assessment.reasons(), strict=True):
                missing.append(layers.feature(
                    layers.point(target.lon, target.lat), school_id=school.id,
                    requirement_id=assessment.requirement.id,
                    _title=f"缺：{name}", _tooltip=f"缺：{name}",
                    _popup=[["学校", school.name], ["要求", assessment.requirement.id],
                            ["说明", reason], ["依据", assessment.requirement.basis]],
                    _style={"color": MISSING_COLOUR, "fillColor": "#ffffff", "radius": 8,
                            "weight": 3, "dashArray": "2 2", "fillOpacity": 0.6}))
    return [layers.overlay("facilities", "必备设施", points, group="护校安园"),
            layers.overlay("missing", "缺失设施（缺）", missing, group="护校安园")]


def colour_by_risk(session: Session, features: list[dict[str, Any]], *, on: date,
                   region: str | None) -> None:
    """Colour school features by risk grade (红/橙/黄/蓝) and add the grade to the popup."""
    grades = {r.code: r for r in school_risks(session, today=on, region=region)}
    for feat in features:
        code = next((v for k, v in feat["properties"]["_popup"] if k == "学校标识码"), None)
        risk = grades.get(str(code))
        if risk is None:
            continue
        colour = GRADE_COLOURS.get(risk.grade, "#999999")
        feat["properties"]["_style"] = {"color": colour, "fillColor": colour}
        feat["properties"]["_popup"].append(["风险等级", risk.summary])


def risk_legend() -> list[dict[str, str]]:
    """Legend entries of the grades, the facilities and the 缺 markers."""
    items = [{"label": f"风险等级：{g.name}（建议每{g.frequency}排查）",
              "colour": GRADE_COLOURS.get(g.code, "#999999"), "shape": "area"}
             for g in risk_formula().grades]
    return items + [{"label": "必备设施", "colour": FACILITY_COLOUR},
                    {"label": "缺：应设未设的设施（位于应服务的校门或校园）",
                     "colour": "#ffffff", "border": MISSING_COLOUR, "shape": "ring"}]
