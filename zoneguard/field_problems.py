"""What a person reads for a pydantic validation error, in Chinese: one table for all callers.

The API's request validation and the rule-file loader both describe a pydantic error by its
`type` and its `ctx`; a caller may word some kinds its own way (a rule file's maintainer is
told to quote a number meant as text, say), over the same table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

_DATE = "应为日期（YYYY-MM-DD）"
_OBJECT = "应为对象"

PROBLEMS: Mapping[str, str] = {
    "missing": "必须填写", "extra_forbidden": "不是可接受的字段",
    "string_type": "应为文本", "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "不能超过 {max_length} 个字符", "string_pattern_mismatch": "格式不符",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}", "enum": "应为以下之一：{expected}",
    "date_type": _DATE, "date_parsing": _DATE, "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": "应为日期时间", "datetime_parsing": "应为日期时间",
    "list_type": "应为列表", "tuple_type": "应为列表", "too_short": "至少 {min_length} 项",
    "too_long": "不能超过 {max_length} 项",
    "dict_type": _OBJECT, "model_type": _OBJECT, "model_attributes_type": _OBJECT,
    "json_invalid": "不是有效的 JSON", "json_type": "不是有效的 JSON",
}


def describe(error: Mapping[str, Any], wording: Mapping[str, str] | None = None) -> str | None:
    """What is wrong, in Chinese (None: a kind with no wording, or a `ctx` it cannot fill).

    A validator's own message (a `value_error`) is given as it is written.
    """
    ctx = dict(error.get("ctx") or {})
    kind = str(error.get("type", ""))
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if "expected" in ctx:  # "'a', 'b' or 'c'"
        ctx["expected"] = str(ctx["expected"]).replace(" or ", "、").replace(", ", "、")
    template = (wording or {}).get(kind) or PROBLEMS.get(kind)
    if template is None:
        return None
    with contextlib.suppress(KeyError, IndexError, ValueError, TypeError):
        return template.format(**ctx)
    return None
