"""What the 问题台账 pages show: filters read from the query, map specs, action forms.

States, actions, who may take them and what each needs come from `services.cases.flow`;
nothing here names a state or an action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from zoneguard.domain import FindingState, Role
from zoneguard.errors import ValidationError
from zoneguard.labels import STATE_LABELS
from zoneguard.maps import layers, style
from zoneguard.maps.basemaps import Basemap
from zoneguard.maps.page import new_spec
from zoneguard.services.cases.flow import Closing, Need, actions_from, describe

PAGE_SIZES = (20, 50, 100, 200)
EXPIRING_DAYS = 90
STOCK = {"": "全部", "existing": "存量场所", "new": "非存量场所",
         "expiring": f"存量·{EXPIRING_DAYS}天内到期"}
SUPERVISION = {"yellow": "黄牌督办", "red": "红牌督办"}
NEED_HINTS = {
    Need.EVIDENCE: "须已上传至少一份证据材料（照片或 PDF）",
    Need.OTHER_THAN_RECTIFIER: "须由整改人员以外的人员办理",
    Need.OTHER_THAN_PROPOSER: "须由提出办结以外的人员审批",
    Need.CONFLICT_GONE: "须场所已关闭、迁出，或现场测量在规定距离外",
}
_REGION = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class DeskFilters:
    """The desk's filters and page, as read from the query string."""

    state: str | None = "active"
    category: str | None = None
    district: str | None = None
    school: str | None = None
    overdue: bool = False
    stock: str = ""
    offset: int = 0
    limit: int = 50

    def service_args(self) -> dict[str, Any]:
        """Keyword arguments of `findings.list_findings` (without paging)."""
        return {"state": self.state, "category": self.category, "region": self.district,
                "school": self.school, "overdue": self.overdue,
                "existing": {"existing": True, "new": False}.get(self.stock),
                "expiring_within_days": EXPIRING_DAYS if self.stock == "expiring" else None}

    def query(self, **change: Any) -> str:
        """The query string of these filters with some changed (empty values left out)."""
        values = {"state": self.state or "all", "category": self.category,
                  "district": self.district, "school": self.school,
                  "overdue": "1" if self.overdue else None, "stock": self.stock or None,
                  "offset": self.offset or None, "limit": self.limit, **change}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def state_choices() -> list[tuple[str, str]]:
    """The state filter's options: the groups, then every state of the flow."""
    flow = describe()
    states = [(s["code"], s["name"]) for s in flow["states"]]  # type: ignore[attr-defined]
    return [("active", "全部未办结"), ("closed", "全部已办结"), ("all", "全部状态"), *states]


def _int(value: str, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"{what}应为整数：{value}") from None
    if not low <= number <= high:
        raise ValidationError(f"{what}应在 {low} 到 {high} 之间")
    return number


def read_filters(params: dict[str, str]) -> DeskFilters:
    """Filters from the query string (ValidationError in Chinese for a bad value)."""
    state = params.get("state", "active").strip() or "active"
    if state not in {code for code, _ in state_choices()}:
        raise ValidationError(f"未知的办理状态：{state}")
    district = params.get("district", "").strip() or None
    if district is not None and not _REGION.match(district):
        raise ValidationError(f"行政区划代码应为 1–12 位数字：{district}")
    stock = params.get("stock", "").strip()
    if stock not in STOCK:
        raise ValidationError(f"未知的存量筛选：{stock}")
    limit = _int(params.get("limit", "") or "50", "每页条数", 1, max(PAGE_SIZES))
    offset = _int(params.get("offset", "") or "0", "起始位置", 0, 10_000_000)
    return DeskFilters(state=None if state == "all" else state,
                       category=params.get("category", "").strip() or None, district=district,
                       school=params.get("school", "").strip() or None,
                       overdue=params.get("overdue", "") in ("1", "on", "true"), stock=stock,
                       offset=offset, limit=limit)


def _case_feature(row: dict[str, Any]) -> layers.Feature:
    verdict = row.get("verdict") or "none"
    return layers.feature(
        layers.point(row["lon"], row["lat"]), id=row["id"], _verdict=verdict,
        _title=f"#{row['id']} {row.get('premises_name') or row.get('description') or ''}",
        _popup=[["类别", style.category_label(row["category"]) if row["category"] else None],
                ["学校", row["school_name"]], ["距离", style.distance_text(row["distance_m"])],
                ["结论", style.verdict_label(row.get("verdict"))], ["状态", row["state_name"]]],
        _links=[{"href": f"/findings/{row['id']}", "text": f"办理问题 #{row['id']}"}],
        _style={"fillColor": style.category_colour(row["category"] or ""),
                "color": style.VERDICT_COLOURS.get(verdict, "#555555"), "weight": 3,
                "radius": 7, "fillOpacity": 0.85})


def _line_feature(row: dict[str, Any]) -> layers.Feature:
    return layers.feature(
        row["line"], id=row["id"], _tooltip=style.distance_text(row["distance_m"]),
        _title=f"#{row['id']} 测量线",
        _popup=[["距离", style.distance_text(row["distance_m"])],
                ["规定距离", style.distance_text(row["threshold_m"])],
                ["测量方式", style.metric_label(row["metric"]) if row["metric"] else None]],
        _style={"color": style.VERDICT_COLOURS.get(row.get("verdict") or "none",
                                                   style.LINE_COLOUR), "weight": 2})


def cases_map(rows: list[dict[str, Any]], basemap: Basemap, title: str,
              school: dict[str, Any] | None = None) -> dict[str, Any]:
    """Map spec of some findings: their premises, measured lines and (for one) the campus."""
    spec = new_spec(title, basemap)
    overlays = []
    if school is not None:
        overlays.append(layers.overlay("school", "学校", [layers.feature(
            school["geometry"], _title=school["name"], _tooltip=school["name"],
            _links=[{"href": "/schools/" + quote(school["code"], safe="/:"),
                     "text": "本校页面（一校一图一表）"}])],
            group="基础", style_={"color": style.SCHOOL_COLOUR, "weight": 2,
                                  "fillOpacity": 0.15}))
    placed = [r for r in rows if r["lon"] is not None and r["lat"] is not None]
    overlays.append(layers.overlay("lines", "测量线", [_line_feature(r) for r in rows
                                                      if r.get("line")], group="测距"))
    overlays.append(layers.overlay("cases", "问题", [_case_feature(r) for r in placed],
                                   group="问题"))
    layers.shift_for_display(overlays, basemap)
    spec["overlays"] = overlays
    spec["bounds"] = layers.bounds(overlays)
    spec["max_fit_zoom"] = 17
    spec["legend"] = layers.legend([r["category"] for r in placed if r["category"]])
    return spec


def action_forms(state: str, role: Role, evidence_count: int) -> list[dict[str, Any]]:
    """One form per action the flow allows this role from this state, fields from its needs."""
    forms = []
    for action in actions_from(FindingState(state), role):
        needs = set(action.needs)
        hints = [NEED_HINTS[n] for n in action.needs if n in NEED_HINTS]
        if Need.EVIDENCE in needs:
            hints.append(f"现有证据材料 {evidence_count} 份")
        forms.append({
            "code": action.code, "label": action.label, "hints": hints,
            "to": None if action.target is None else STATE_LABELS[action.target],
            "comment": "required" if Need.COMMENT in needs else "optional",
            "assignee": Need.ASSIGNEE in needs,
            "closings": [(c.value, STATE_LABELS[FindingState(c.value)]) for c in Closing]
            if Need.CLOSING in needs else []})
    return forms


def supervision_text(level: str | None) -> str:
    """黄牌督办 / 红牌督办 / ''."""
    return SUPERVISION.get(level or "", "")
