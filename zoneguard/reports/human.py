"""Tables for people: Chinese headers, Chinese labels of codes, Beijing time, region names.

Machine formats (CSV for scripts, GeoJSON, GeoPackage) keep the stable English keys and
codes unless `labels="zh"` is asked for; XLSX and reports always go through `humanise`.
Excel cannot store a time zone: times become naive Beijing datetimes and their headers say
（北京时间）.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from zoneguard import regions
from zoneguard.errors import ValidationError
from zoneguard.labels import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    METRIC_SHORT,
    PREMISES_STATUS_LABELS,
    STATE_LABELS,
    VERDICT_LABELS,
)
from zoneguard.reports.problem_labels import problem_names

BEIJING = "Asia/Shanghai"
LABELS = ("en", "zh")
TRIGGER_LABELS = {"manual": "手动", "nightly": "夜间定时", "import": "导入后", "api": "接口"}
SCAN_STATUS_LABELS = {"running": "运行中", "succeeded": "成功", "failed": "失败"}
PRECISION_LABELS = {"boundary": "校园边界（多边形）", "point": "仅有点位"}
SUPERVISION_LABELS = {"red": "红牌督办", "yellow": "黄牌督办"}
KIND_LABELS = {"scan": "测距扫描", "report": "登记问题"}
TIME_COLUMNS = frozenset({"first_seen", "last_seen", "resolved_at", "updated_at", "started_at",
                          "finished_at", "at"})
HEADERS: dict[str, str] = {
    "id": "编号", "kind": "来源", "school_code": "学校标识码", "school_name": "学校名称",
    "premises_id": "场所编号", "licence_no": "许可证号", "premises_name": "场所名称",
    "category": "类别", "region": "行政区划", "premises_region": "场所行政区划",
    "rule_id": "规则", "metric": "测量方式", "distance_m": "距离（米）",
    "threshold_m": "规定距离（米）", "verdict": "结论", "reasons": "说明", "state": "处置状态",
    "assignee": "责任单位", "deadline": "整改期限", "overdue": "是否逾期",
    "rule_set_version": "规则集版本", "first_seen": "首次发现时间", "last_seen": "最近确认时间",
    "resolved_at": "办结时间", "resolution": "办结说明", "existing": "是否存量",
    "expires_on": "许可有效期至", "line_wkt": "测距线（WKT）", "code": "学校标识码",
    "name": "名称", "levels": "学段", "enrolment": "在校生数", "address": "地址",
    "precision": "位置精度", "opened_on": "开办日期", "closed_on": "停办日期",
    "source": "数据来源", "updated_at": "更新时间", "operator": "经营者", "status": "经营状态",
    "issued_on": "发证日期", "source_crs": "原始坐标系", "entrance_lon": "入口经度",
    "entrance_lat": "入口纬度", "lon": "经度", "lat": "纬度", "wkt": "几何（WKT）",
    "school_id": "学校编号", "step_due": "当前环节期限", "supervision": "督办等级",
    "rebound": "是否反弹", "review_on": "回头看日期", "field_distance_m": "现场实测距离（米）",
    "field_verdict": "现场测量结论", "problem_category": "问题类别", "description": "问题描述",
    "proposed_closing": "拟办结方式", "proposed_by": "提议人", "rectified_by": "整改人",
    "state_name": "处置状态名称", "trigger": "触发方式",
}
NAMES = {"findings": "问题编号", "schools": "学校名称", "premises": "场所名称"}


def header(column: str, what: str | None = None) -> str:
    """The Chinese header of a column (times say 北京时间)."""
    if column == "id" and what == "findings":
        return "问题编号"
    if column == "name" and what in NAMES:
        return NAMES[what]
    text = HEADERS.get(column, column)
    return f"{text}（北京时间）" if column in TIME_COLUMNS else text


def beijing(value: Any, timezone: str = BEIJING) -> datetime | None:
    """A stored instant as a naive Beijing datetime (UTC when it carries no zone)."""
    if value is None or type(value).__name__ == "NaTType":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return value  # type: ignore[no-any-return]
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    to_py = getattr(local, "to_pydatetime", None)
    return to_py() if callable(to_py) else local


def _category(code: Any) -> Any:
    if not isinstance(code, str):
        return code
    return CATEGORY_LABELS.get(code) or problem_names().get(code) or code


def _levels(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return "、".join(LEVEL_LABELS.get(v, v) for v in value.split(",") if v)


def _yes(value: Any) -> Any:
    return value if not isinstance(value, bool) else ("是" if value else "否")


VALUE_LABELS: dict[str, Callable[[Any], Any]] = {
    "category": _category,
    "verdict": lambda v: VERDICT_LABELS.get(v, v) if isinstance(v, str) else v,
    "state": lambda v: STATE_LABELS.get(v, v) if isinstance(v, str) else v,
    "metric": lambda v: METRIC_SHORT.get(v, v) if isinstance(v, str) else v,
    "status": lambda v: PREMISES_STATUS_LABELS.get(v, v) if isinstance(v, str) else v,
    "precision": lambda v: PRECISION_LABELS.get(v, v) if isinstance(v, str) else v,
    "kind": lambda v: KIND_LABELS.get(v, v) if isinstance(v, str) else v,
    "levels": _levels,
    "region": lambda v: regions.labelled(v) if isinstance(v, str) else v,
    "premises_region": lambda v: regions.labelled(v) if isinstance(v, str) else v,
    "existing": _yes, "overdue": _yes, "rebound": _yes,
    "field_verdict": lambda v: VERDICT_LABELS.get(v, v) if isinstance(v, str) else v,
    "proposed_closing": lambda v: STATE_LABELS.get(v, v) if isinstance(v, str) else v,
    "problem_category": _category,
    "supervision": lambda v: SUPERVISION_LABELS.get(v, v) if isinstance(v, str) else v,
    "trigger": lambda v: TRIGGER_LABELS.get(v, v) if isinstance(v, str) else v,
}


def human_value(column: str, value: Any, timezone: str = BEIJING) -> Any:
    """A cell for people: Chinese label of a code, region name, Beijing time, or as it is."""
    if column in TIME_COLUMNS:
        return beijing(value, timezone)
    convert = VALUE_LABELS.get(column)
    return value if convert is None else convert(value)


def humanise(columns: Sequence[str], rows: Iterable[Sequence[Any]], what: str | None = None,
             timezone: str = BEIJING) -> tuple[list[str], list[list[Any]]]:
    """Chinese headers and human cells for a table keyed by the stable English columns."""
    out = [[human_value(c, v, timezone) for c, v in zip(columns, row, strict=True)]
           for row in rows]
    return [header(c, what) for c in columns], out


def check_labels(labels: str) -> str:
    """`en` (stable codes, the default for machine formats) or `zh` (for people)."""
    if labels not in LABELS:
        raise ValidationError(f"labels 参数「{labels}」无效：应为 en（英文代码，供程序读取）"
                              "或 zh（中文，供人阅读）")
    return labels

