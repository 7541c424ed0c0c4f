"""The risk formula file (data/risk.yaml) is valid and bad files are refused in Chinese."""

from __future__ import annotations

import copy

import pytest
import yaml

from zoneguard.errors import ValidationError
from zoneguard.risk_formula import formula_path, parse_formula, risk_formula


def _raw() -> dict[str, object]:
    loaded = yaml.safe_load(formula_path().read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_bundled_formula_is_valid_and_graded_top_down() -> None:
    formula = risk_formula()
    assert [g.name for g in formula.grades] == ["红", "橙", "黄", "蓝"]
    assert [g.frequency for g in formula.grades] == ["日", "周", "月", "季"]
    assert "分级管控" in formula.basis.citation
    assert "非法定" in formula.notice
    assert formula.grade_for(0).name == "蓝"
    top = formula.grades[0].min_score
    assert formula.grade_for(top).name == "红"
    assert formula.grade_for(top - 1).name == "橙"


@pytest.mark.parametrize(("path", "value", "needle"), [
    (("grades", 0, "min_score"), 1, "递减"),
    (("points", "verdict", "prohibited"), -5, "负数"),
    (("points", "rebound"), -1, "points.rebound"),
    (("grades", 1, "frequency"), "年", "grades.1.frequency"),
    (("notice",), "权重可调", "非法定"),
    (("points", "kind", "premises"), 3, "points.kind"),
])
def test_bad_formula_refused_with_chinese_error(
        path: tuple[object, ...], value: object, needle: str) -> None:
    data = copy.deepcopy(_raw())
    node: object = data
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    with pytest.raises(ValidationError) as err:
        parse_formula(data)
    assert "风险分级公式文件有误" in str(err.value)
    assert needle in str(err.value)


def test_unknown_key_refused() -> None:
    data = copy.deepcopy(_raw())
    data["weights"] = {}
    with pytest.raises(ValidationError, match="weights"):
        parse_formula(data)
