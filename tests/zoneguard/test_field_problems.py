"""Pydantic's errors, as a person reads them: real validation errors of a small model."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pydantic
import pytest
from pydantic import BaseModel, ConfigDict, Field

from zoneguard.field_problems import describe


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2)
    count: int = Field(ge=1)
    kind: Literal["tobacco", "lottery"]
    on: date

    @pydantic.field_validator("name")
    @classmethod
    def _no_digits(cls, value: str) -> str:
        if any(c.isdigit() for c in value):
            raise ValueError("名称不能含数字")
        return value


def _errors(**values: object) -> dict[str, dict[str, object]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        _Form.model_validate(values)
    return {str(e["loc"][0]): dict(e) for e in caught.value.errors()}


def test_each_kind_of_error_reads_in_chinese_with_its_limit() -> None:
    errors = _errors(name="x", count=0, kind="casino", on="soon", extra=1)
    assert describe(errors["name"]) == "至少 2 个字符"
    assert describe(errors["count"]) == "应不小于 1"
    assert describe(errors["kind"]) == "应为以下之一：'tobacco'、'lottery'"
    assert describe(errors["on"]) == "应为日期（YYYY-MM-DD）"
    assert describe(errors["extra"]) == "不是可接受的字段"
    assert describe(_errors(count="many")["count"]) == "应为整数"
    assert describe(_errors(count=1)["name"]) == "必须填写"


def test_a_validators_own_words_are_kept_and_a_caller_may_word_a_kind_its_way() -> None:
    assert describe(_errors(name="a1b")["name"]) == "名称不能含数字"
    count = _errors(count=0)["count"]
    assert describe(count, {"greater_than_equal": "至少为 {ge}"}) == "至少为 1"


def test_a_kind_without_wording_or_with_a_ctx_it_cannot_fill_is_none() -> None:
    assert describe({"type": "no_such_kind", "ctx": {}}) is None
    assert describe({"type": "greater_than_equal", "ctx": {}}) is None  # no bound to name
