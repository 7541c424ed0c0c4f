"""Problem categories as data: the bundled file, its validation, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoneguard.errors import CatalogueError, ValidationError
from zoneguard.problem_categories import catalogue, load_catalogue
from zoneguard.settings import PROJECT_ROOT, Settings

BUNDLED = PROJECT_ROOT / "data" / "problems.yaml"

GOOD = """version: "1"
categories:
  - code: street_vendor
    name: 无证流动摊点
    unit: 城管局
    lookback_days: 30
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "problems.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_bundled_file_names_the_seed_problems() -> None:
    loaded = load_catalogue(BUNDLED)
    names = {c.name for c in loaded.categories}
    assert {"无证流动摊点", "占道经营", "违停", "三无/五毛食品", "接纳未成年人",
            "向未成年人售烟酒", "危险水域", "危险场所/施工工地"} <= names
    assert loaded.get("street_vendor").name == "无证流动摊点"
    assert all(c.lookback_days >= 1 and c.unit for c in loaded.categories)


def test_every_bundled_category_cites_its_source() -> None:
    for category in load_catalogue(BUNDLED).categories:
        assert category.citation is not None, category.code
        assert "《" in category.citation.document
        assert category.citation.display().endswith(f"“{category.citation.text}”")


def test_unknown_category_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="未知问题类别 'kiosk'.*street_vendor（无证"):
        load_catalogue(BUNDLED).get("kiosk")


def test_settings_file_replaces_the_bundled_one(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    cfg = Settings(problems_file=path)
    assert cfg.effective_problems_file == path
    assert [c.code for c in catalogue(cfg.effective_problems_file).categories] == ["street_vendor"]
    assert Settings().effective_problems_file == BUNDLED


def test_bad_field_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + "  - code: water\n    name: 水\n    unit: 水务局\n"
                  "    lookback_days: 0\n")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(path) in caught.value.detail
    assert "第 10 行：categories.1.lookback_days" in caught.value.detail


def test_unknown_field_and_bad_code_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("code: street_vendor", "code: Street Vendor")
                  + "    colour: red\n")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert "第 3 行：categories.0.code" in caught.value.detail
    assert "第 7 行：categories.0.colour：未知字段" in caught.value.detail


def test_duplicate_codes_and_keys_are_refused(tmp_path: Path) -> None:
    twice = GOOD + GOOD.split("categories:\n")[1]
    with pytest.raises(CatalogueError, match="类别代码 'street_vendor' 重复"):
        load_catalogue(_write(tmp_path, twice))
    with pytest.raises(CatalogueError, match="第 6 行：字段 'unit' 重复出现"):
        load_catalogue(_write(tmp_path, GOOD.replace("    lookback_days", "    unit: x\n"
                                                      "    lookback_days")))


def test_broken_yaml_and_missing_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"YAML 格式有误（第 3 行第 3 列）"):
        load_catalogue(_write(tmp_path, "version: 1\ncategories: [\n  - {"))
    with pytest.raises(CatalogueError, match="无法读取问题类别文件"):
        catalogue(tmp_path / "absent.yaml")
    with pytest.raises(CatalogueError, match="文件内容应为映射"):
        load_catalogue(_write(tmp_path, "- a\n- b\n"))
