"""Column aliases (Chinese and English headers) and value mapping for imported files."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from zoneguard import regions
from zoneguard.domain import Category, GateKind, Level, PremisesStatus
from zoneguard.labels import category_label

#: Canonical output columns of each kind (besides attributes, source_row and geometry).
COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": ("code", "name", "levels", "enrolment", "region", "opened_on", "closed_on",
                "address", "precision"),
    "gates": ("school_code", "kind", "name"),
    "premises": ("licence_no", "name", "category", "address", "operator", "region",
                 "issued_on", "expires_on", "status", "entrance"),
    "facilities": ("code", "kind", "name", "school_code", "region", "direction_deg", "fov_deg",
                   "installed_on", "address"),
}
#: Input fields each kind understands (lon/lat/entrance_*/source_id are inputs, not columns).
FIELDS: dict[str, tuple[str, ...]] = {
    "schools": ("code", "name", "levels", "enrolment", "region", "opened_on", "closed_on",
                "address", "lon", "lat"),
    "gates": ("school_code", "kind", "name", "lon", "lat"),
    "premises": ("licence_no", "name", "category", "address", "operator", "region",
                 "issued_on", "expires_on", "status", "lon", "lat", "entrance_lon",
                 "entrance_lat", "source_id"),
    "facilities": ("code", "kind", "name", "school_code", "region", "direction_deg", "fov_deg",
                   "installed_on", "address", "lon", "lat"),
}

_COMMON: dict[str, tuple[str, ...]] = {
    "name": ("名称", "学校名称", "场所名称", "零售户", "零售户名称", "单位名称", "店名",
             "门店名称", "name"),
    "address": ("地址", "详细地址", "经营地址", "学校地址", "address", "addr"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "region": ("行政区划代码", "区划代码", "区划编码", "region", "region_code", "adcode"),
    "code": ("学校标识码", "学校代码", "code", "school_code"),
    "levels": ("学段", "类型", "办学类型", "学校类型", "type", "levels", "level"),
    "enrolment": ("在校生数", "学生数", "在校学生数", "enrolment", "enrollment", "students"),
    "opened_on": ("建校日期", "开办日期", "建校时间", "opened_on"),
    "closed_on": ("停办日期", "撤销日期", "closed_on"),
    "licence_no": ("许可证号", "许可证编号", "专卖许可证号", "licence_no", "license_no",
                   "licence", "license"),
    "issued_on": ("发证日期", "issued_on"),
    "expires_on": ("有效期至", "有效期", "到期日期", "expires_on"),
    "operator": ("经营者", "负责人", "法定代表人", "operator"),
    "category": ("类别", "场所类别", "行业类别", "category"),
    "status": ("状态", "经营状态", "许可状态", "status"),
    "entrance_lon": ("入口经度", "entrance_lon"),
    "entrance_lat": ("入口纬度", "entrance_lat"),
    "source_id": ("id", "fid", "objectid", "编号", "序号"),
}
#: Per-kind differences: a gate file's school code and kind, a premises file's 类型.
_BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "gates": {
        "school_code": _COMMON["code"] + ("school",),
        "kind": ("类型", "门类型", "出入口类型", "kind", "type"),
        "name": ("门名称", "出入口名称") + _COMMON["name"],
    },
    "premises": {"category": _COMMON["category"] + ("类型", "type")},
    "facilities": {
        "code": ("设施编号", "编号", "code", "facility_code"),
        "kind": ("设施类型", "设施类别", "类型", "kind", "type"),
        "name": ("设施名称",) + _COMMON["name"],
        "school_code": _COMMON["code"],
        "direction_deg": ("朝向", "方向", "方位角", "direction", "direction_deg", "bearing"),
        "fov_deg": ("视场角", "视角", "fov", "fov_deg"),
        "installed_on": ("安装日期", "设置日期", "installed_on"),
    },
}

_LEVEL_WORDS: dict[str, tuple[Level, ...]] = {
    "幼儿园": (Level.KINDERGARTEN,), "学前": (Level.KINDERGARTEN,),
    "学前教育": (Level.KINDERGARTEN,),
    "小学": (Level.PRIMARY,),
    "初中": (Level.SECONDARY,), "高中": (Level.SECONDARY,), "中学": (Level.SECONDARY,),
    "完全中学": (Level.SECONDARY,), "初级中学": (Level.SECONDARY,), "高级中学": (Level.SECONDARY,),
    "九年一贯制": (Level.PRIMARY, Level.SECONDARY),
    "十二年一贯制": (Level.PRIMARY, Level.SECONDARY),
    "中职": (Level.VOCATIONAL,), "职业": (Level.VOCATIONAL,), "中等职业": (Level.VOCATIONAL,),
    "职业技术": (Level.VOCATIONAL,), "中专": (Level.VOCATIONAL,), "技工": (Level.VOCATIONAL,),
    "特殊教育": (Level.SPECIAL,), "特教": (Level.SPECIAL,),
    "大学": (Level.HIGHER,), "高等院校": (Level.HIGHER,), "学院": (Level.HIGHER,),
    "高校": (Level.HIGHER,), "高等学校": (Level.HIGHER,),
    "middle": (Level.SECONDARY,), "high": (Level.SECONDARY,), "university": (Level.HIGHER,),
    "college": (Level.HIGHER,),
} | {level.value: (level,) for level in Level}

_CATEGORY_WORDS: dict[str, str] = {
    "网吧": "internet_cafe", "网咖": "internet_cafe", "互联网上网服务营业场所": "internet_cafe",
    "歌舞娱乐": "entertainment", "歌舞": "entertainment", "ktv": "entertainment",
    "游艺": "entertainment", "游艺娱乐": "entertainment", "娱乐场所": "entertainment",
    "彩票": "lottery", "体育彩票": "lottery", "福利彩票": "lottery",
    "烟草": "tobacco", "卷烟": "tobacco", "卷烟零售": "tobacco", "烟草零售": "tobacco",
    "电子烟": "tobacco", "加油站": "gas_station", "烟花爆竹": "fireworks",
}
_STATUS_WORDS: dict[str, PremisesStatus] = {
    "正常": PremisesStatus.ACTIVE, "有效": PremisesStatus.ACTIVE, "在营": PremisesStatus.ACTIVE,
    "营业": PremisesStatus.ACTIVE, "存续": PremisesStatus.ACTIVE, "开业": PremisesStatus.ACTIVE,
    "申请": PremisesStatus.APPLICANT, "申请中": PremisesStatus.APPLICANT,
    "审批中": PremisesStatus.APPLICANT, "暂停": PremisesStatus.SUSPENDED,
    "停业": PremisesStatus.SUSPENDED, "吊销": PremisesStatus.REVOKED,
    "撤销": PremisesStatus.REVOKED, "注销": PremisesStatus.CLOSED, "歇业": PremisesStatus.CLOSED,
    "关闭": PremisesStatus.CLOSED, "关停": PremisesStatus.CLOSED,
} | {s.value: s for s in PremisesStatus}
_GATE_WORDS: dict[str, GateKind] = {
    "正门": GateKind.MAIN, "大门": GateKind.MAIN, "主门": GateKind.MAIN,
    "主入口": GateKind.MAIN, "侧门": GateKind.SIDE, "边门": GateKind.SIDE,
    "后门": GateKind.BACK, "其他": GateKind.OTHER,
} | {g.value: g for g in GateKind}

_AMAP_LEVELS = {"幼儿园": Level.KINDERGARTEN, "小学": Level.PRIMARY, "中学": Level.SECONDARY,
                "高等院校": Level.HIGHER, "职业技术学校": Level.VOCATIONAL}
_LIST_SPLIT = re.compile(r"[;；、,，/|]+")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
REGION_CODE = regions.CODE
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})[-/.年](\d{1,2})月?"),
    re.compile(r"(\d{4})(?:年)?"),
)


def normalize_header(name: object) -> str:
    """Return a header folded for matching: NFKC, lower case, no spaces or unit suffix."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower().lstrip("\ufeff")
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\((?:°|度|deg|个|人|m)\)$", "", text)


#: What each input field is called in a message to a person.
FIELD_LABELS: dict[str, str] = {
    "code": "学校标识码", "school_code": "学校标识码", "name": "名称", "levels": "学段",
    "enrolment": "在校生数", "region": "行政区划代码", "opened_on": "开办日期",
    "closed_on": "停办日期", "address": "地址", "kind": "类型", "licence_no": "许可证号",
    "category": "场所类别", "operator": "经营者", "issued_on": "发证日期",
    "expires_on": "有效期至", "status": "经营状态", "lon": "经度", "lat": "纬度",
    "entrance_lon": "入口经度", "entrance_lat": "入口纬度", "source_id": "编号",
    "geometry": "几何", "direction_deg": "朝向", "fov_deg": "视场角", "installed_on": "安装日期",
}


def field_label(fieldname: str) -> str:
    """Return the Chinese name of an input field (the name itself when unknown)."""
    return FIELD_LABELS.get(fieldname, fieldname)


def aliases(kind: str) -> dict[str, tuple[str, ...]]:
    """Return the header aliases of each input field of `kind`."""
    table = {f: _COMMON.get(f, (f,)) for f in FIELDS[kind]}
    table.update(_BY_KIND.get(kind, {}))
    return table


def resolve_columns(
    columns: Sequence[str], kind: str, column_map: dict[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """Map input fields to source columns (aliases, then `column_map` overrides)."""
    warnings: list[str] = []
    by_header = {normalize_header(c): c for c in reversed(columns)}
    found: dict[str, str] = {}
    for fieldname, names in aliases(kind).items():
        hits = [by_header[n] for n in map(normalize_header, names) if n in by_header]
        hits = [h for h in hits if h not in found.values()]
        if hits:
            found[fieldname] = hits[0]
            if len(hits) > 1:
                others = "、".join(f"“{h}”" for h in hits)
                warnings.append(f"{others} 这几列都像“{field_label(fieldname)}”列；"
                                f"已采用“{hits[0]}”列，其余不导入")
    for column, fieldname in (column_map or {}).items():
        found = {f: c for f, c in found.items() if c != column and f != fieldname}
        found[fieldname] = column
    return found, warnings


def is_blank(value: Any) -> bool:
    """Return True for None, NaN, NaT and empty or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return str(value) in {"NaT", "<NA>", "nan"}


def as_text(value: Any) -> str | None:
    """Return a cell as stripped text (integral floats without `.0`), None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item"):
        return as_text(value.item())
    return str(value).strip()


def parse_number(value: Any) -> float | None:
    """Return a cell as a float (None when blank); raise ValueError for text."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"“{text}”不是数字")
    return number


def parse_date(value: Any) -> dt.date | None:
    """Return a cell as a date (a bare year means 1 January); raise ValueError otherwise."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", as_text(value) or "")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match and (match.end() == len(text) or text[match.end()] in " T"):
            parts = [int(g) for g in match.groups()] + [1, 1]
            try:
                return dt.date(parts[0], parts[1], parts[2])
            except ValueError:
                raise ValueError(f"“{text}”不是实际存在的日期") from None
    raise ValueError(f"“{text}”不是可识别的日期")


def parse_count(value: Any) -> int | None:
    """Return a cell as a non-negative whole number (None when blank); raise ValueError."""
    number = parse_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"“{value}”不是整数")
    if number < 0:
        raise ValueError(f"不能是负数（{int(number)}）")
    return int(number)


def parse_region(value: Any, default: str | None = None) -> str | None:
    """Return a GB/T 2260 region code (`default` when blank); raise ValueError otherwise."""
    text = as_text(value) or default
    if text is not None and not REGION_CODE.fullmatch(text):
        raise ValueError(f"行政区划代码应为 GB/T 2260 代码（2、4、6、9 或 12 位数字，如 310104），"
                         f"不能是“{text}”；区县名称等文字请放在其他列")
    return text


def parse_levels(value: Any) -> list[str]:
    """Return school levels for a 学段 cell (Chinese, English, lists, Amap types); ValueError."""
    text = as_text(value)
    if text is None:
        raise ValueError("学段为空")
    first_segment = text.split("|")[0].split(";")[0]
    if "|" in text or first_segment.endswith(("服务", "住宅", "企业")):
        # Amap POI type: the first `|` alternative is the main type; its last segment the kind
        kind = text.split("|")[0].split(";")[-1].strip()
        if kind in _AMAP_LEVELS:
            return [_AMAP_LEVELS[kind].value]
        raise ValueError(f"无法识别的学段“{kind}”（高德类型“{text}”）")
    levels: set[Level] = set()
    for word in (w for w in _LIST_SPLIT.split(normalize_header(text)) if w):
        stem = word.removesuffix("学校") if word.endswith("学校") and word != "学校" else word
        if word in _LEVEL_WORDS or stem in _LEVEL_WORDS:
            levels.update(_LEVEL_WORDS.get(word) or _LEVEL_WORDS[stem])
        else:
            raise ValueError(f"无法识别的学段“{word}”："
                             "可填幼儿园、小学、初中、高中、中职、特殊教育、高校")
    return [level.value for level in Level if level in levels]


def parse_category(value: Any, known: Iterable[str] | None) -> str:
    """Return the canonical category of a cell; raise ValueError for an unknown one."""
    text = as_text(value)
    if text is None:
        raise ValueError("场所类别为空")
    word = normalize_header(text)
    category = _CATEGORY_WORDS.get(word, word)
    allowed = set(known) if known is not None else None
    if allowed is not None and category not in allowed:
        names = "、".join(f"{category_label(c)}（{c}）" for c in sorted(allowed))
        raise ValueError(f"场所类别“{text}”不在现行规则中；可填：{names}")
    if allowed is None and not _IDENTIFIER.fullmatch(category):
        canon = "、".join(f"{category_label(c.value)}（{c.value}）" for c in Category)
        raise ValueError(f"无法识别的场所类别“{text}”；可填：{canon}，或规则文件中的类别名")
    return category


def parse_status(value: Any) -> str:
    """Return the licence status of a cell (blank means active); raise ValueError."""
    text = as_text(value)
    if text is None:
        return PremisesStatus.ACTIVE.value
    word = normalize_header(text)
    for key in (word, word.removeprefix("已"), word.removesuffix("中")):
        if key in _STATUS_WORDS:
            return _STATUS_WORDS[key].value
    raise ValueError(f"无法识别的经营状态“{text}”；可填：正常、申请中、暂停、吊销、注销")


def parse_gate_kind(value: Any) -> tuple[str, bool]:
    """Return (gate kind, recognised); blank and unknown values mean "other"."""
    text = as_text(value)
    if text is None:
        return GateKind.OTHER.value, True
    kind = _GATE_WORDS.get(normalize_header(text))
    return (kind.value, True) if kind else (GateKind.OTHER.value, False)
