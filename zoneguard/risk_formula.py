"""The risk formula (分级管控), read from data/risk.yaml and checked on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from zoneguard.errors import ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(_Strict):
    """The policy basis of 分级管控 shown next to the grade."""

    citation: str = Field(min_length=1)
    source: str = Field(min_length=1)


class AgeBand(_Strict):
    """Extra points for a finding open at least `days` days."""

    days: int = Field(gt=0)
    points: int = Field(ge=0)


class Points(_Strict):
    """Points per open finding and per aggravating fact."""

    verdict: dict[str, int]
    kind: dict[str, int]
    age: tuple[AgeBand, ...] = ()
    rebound: int = Field(ge=0)
    yellow_card: int = Field(ge=0)
    red_card: int = Field(ge=0)

    @model_validator(mode="after")
    def _check(self) -> Points:
        if set(self.verdict) != {"prohibited", "review"}:
            raise ValueError("points.verdict 须且仅须给出 prohibited（禁止）与 review（需复核）")
        if set(self.kind) != {"facility", "report"}:
            raise ValueError("points.kind 须且仅须给出 facility（缺失）与 report（登记问题）")
        if any(v < 0 for v in (*self.verdict.values(), *self.kind.values())):
            raise ValueError("分值不能为负数")
        days = [band.days for band in self.age]
        if days != sorted(set(days)):
            raise ValueError("points.age 的天数须严格递增")
        return self


class Grade(_Strict):
    """One grade: 红 / 橙 / 黄 / 蓝, its minimum score and suggested inspection frequency."""

    code: str = Field(pattern=r"^[a-z]+$")
    name: str = Field(min_length=1)
    min_score: int = Field(ge=0)
    frequency: str = Field(pattern=r"^[日周月季]$")
    #: How much more likely a premises near a school of this grade is drawn (双随机, weighted).
    draw_weight: float = Field(default=1.0, gt=0)


class RiskFormula(_Strict):
    """The whole formula: basis, notice (not statutory), points and grades."""

    basis: Basis
    notice: str = Field(min_length=1)
    points: Points
    grades: tuple[Grade, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> RiskFormula:
        scores = [g.min_score for g in self.grades]
        if scores != sorted(set(scores), reverse=True) or scores[-1] != 0:
            raise ValueError("grades 的 min_score 须从高到低严格递减，最后一级为 0")
        if len({g.code for g in self.grades}) != len(self.grades):
            raise ValueError("grades 的 code 不能重复")
        if "非法定" not in self.notice:
            raise ValueError("notice 须明示分值为本地默认值、非法定标准")
        return self

    def grade_for(self, score: int) -> Grade:
        """The grade a score reaches (the first from the top)."""
        return next(g for g in self.grades if score >= g.min_score)


def formula_path() -> Path:
    """The bundled formula file."""
    return Path(__file__).resolve().parents[1] / "data" / "risk.yaml"


def parse_formula(data: Any) -> RiskFormula:
    """Validate a loaded YAML document; raise ValidationError with a Chinese message."""
    try:
        return RiskFormula.model_validate(data)
    except PydanticError as exc:
        problems = "；".join(
            f"{'.'.join(map(str, e['loc'])) or '（根）'}：{e['msg']}" for e in exc.errors())
        raise ValidationError(f"风险分级公式文件有误：{problems}") from None


@lru_cache(maxsize=1)
def risk_formula() -> RiskFormula:
    """The bundled formula, validated once."""
    return parse_formula(yaml.safe_load(formula_path().read_text(encoding="utf-8")))
