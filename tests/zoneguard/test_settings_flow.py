"""Settings flow down: below `api/` and `zoneguard/cli/` nothing reads the global settings."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The only places allowed to call get_settings(): its definition and the two entry points.
ALLOWED = (ROOT / "zoneguard" / "settings.py", ROOT / "zoneguard" / "cli")


def _allowed(path: Path) -> bool:
    return any(path == a or a in path.parents for a in ALLOWED)


def _callers(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        if _allowed(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "get_settings":
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return sorted(found)


def test_no_module_below_the_entry_points_calls_get_settings() -> None:
    assert _callers(ROOT / "zoneguard") + _callers(ROOT / "spatial") == []


def test_the_walk_sees_a_call_by_name_or_attribute(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "reader.py").write_text(
        "from zoneguard import settings\nfrom zoneguard.settings import get_settings\n"
        "x = settings.get_settings().home\ny = get_settings()\n", encoding="utf-8")
    assert _callers(package) == ["pkg/reader.py:3", "pkg/reader.py:4"]
