"""Names and report sections of case categories: premises categories and hand-registered problems.

Problem categories are defined in `data/problems.yaml` (code and Chinese name). That file is
read defensively: when it is missing or shaped otherwise, the code itself is shown, and the
section (食品 / 交通 / 文化 / 治安 / 其他) is guessed from the code and name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from zoneguard.labels import CATEGORY_SHORT

_PROBLEMS = Path(__file__).resolve().parents[2] / "data" / "problems.yaml"
SECTIONS = ("食品安全", "交通安全", "文化市场", "治安", "安全设施", "其他")
_SECTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("食品安全", ("food", "食品", "餐饮", "摊", "stall", "三无", "五毛", "vendor")),
    ("交通安全", ("traffic", "交通", "道路", "停车", "违停", "拥堵", "parking", "标志", "标线",
              "接送", "校车")),
    ("文化市场", ("culture", "文化", "出版", "publication", "网吧", "娱乐", "game", "游戏")),
    ("治安", ("security", "police", "治安", "警", "烟", "酒", "彩票", "tobacco", "alcohol",
            "lottery", "bully", "欺凌", "监控", "order", "秩序")),
    ("安全设施", ("facility", "设施", "护栏", "防冲撞")),
)
# The premises categories the seeds' joint check sheet files under 文化 and 治安.
PREMISES_SECTION = {"internet_cafe": "文化市场", "entertainment": "文化市场",
                    "tobacco": "治安", "alcohol": "治安", "lottery": "治安", "bar": "治安",
                    "adult_shop": "文化市场", "gas_station": "其他", "fireworks": "治安"}


def _entries(data: Any) -> list[tuple[str, str]]:
    if isinstance(data, dict) and isinstance(data.get("categories"), list | dict):
        data = data["categories"]
    if isinstance(data, dict):
        return [(str(k), str(v.get("name") or v.get("label") or k) if isinstance(v, dict)
                 else str(v)) for k, v in data.items()]
    out: list[tuple[str, str]] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("code"):
            out.append((str(item["code"]), str(item.get("name") or item.get("label")
                                                or item["code"])))
    return out


@lru_cache(maxsize=1)
def problem_names() -> dict[str, str]:
    """Code → Chinese name of the problem categories (empty when the file is unreadable)."""
    try:
        data = yaml.safe_load(_PROBLEMS.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return dict(_entries(data))


def category_name(category: str | None, kind: str = "scan") -> str:
    """The Chinese name of a case category (premises category or problem category)."""
    if not category:
        return "（未分类）"
    if kind != "report" and category in CATEGORY_SHORT:
        return CATEGORY_SHORT[category]
    return problem_names().get(category) or CATEGORY_SHORT.get(category) or category


def section_of(category: str | None, kind: str = "scan") -> str:
    """The joint-sheet section of a case: 食品安全, 交通安全, 文化市场, 治安, 安全设施 or 其他."""
    if not category:
        return "其他"
    if kind != "report" and category in PREMISES_SECTION:
        return PREMISES_SECTION[category]
    text = f"{category} {problem_names().get(category, '')}".lower()
    for section, words in _SECTION_WORDS:
        if any(word in text for word in words):
            return section
    return PREMISES_SECTION.get(category, "其他")
