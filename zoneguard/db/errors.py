"""Database errors translated once into domain errors, for the API and the CLI alike."""

from __future__ import annotations

import re

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from zoneguard.errors import (
    Conflict,
    DatabaseUnavailable,
    NotFound,
    ValidationError,
    ZoneGuardError,
)

# What a person calls the tables and key columns named by a constraint.
TABLES = {
    "school": "学校", "school_gate": "学校出入口", "premises": "场所", "api_key": "访问密钥",
    "users": "用户", "rule_set": "规则集", "rule": "规则", "finding": "问题",
    "finding_event": "问题流转记录", "evidence": "证据", "supervision_order": "督办单",
    "facility": "设施", "inspection": "巡查", "import": "导入批次", "scan": "排查",
    "screening": "预审", "network_vertex": "路网节点", "network_edge": "路网路段",
}
COLUMNS = {
    "code": "编号", "username": "用户名", "prefix": "密钥前缀", "name": "名称",
    "version": "版本", "number": "文号", "licence_no": "许可证号", "category": "类别",
    "region": "行政区划", "school_id": "学校", "premises_id": "场所", "rule_id": "规则",
}
_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?P<vals>.*)\)")


def _table(name: str | None) -> str:
    return TABLES.get(name or "", "记录")


def _key(detail: str) -> str:
    """`编号 DUP` from a driver detail `Key (code)=(DUP) already exists.` (empty if absent)."""
    match = _KEY.search(detail)
    if match is None:
        return ""
    cols = [COLUMNS.get(c.strip(), c.strip()) for c in match["cols"].split(",")]
    return f"（{'、'.join(cols)}：{match['vals']}）"


def translate(exc: DBAPIError) -> ZoneGuardError | None:
    """The domain error a database error means (None: an internal error, to be logged)."""
    orig = exc.orig
    sqlstate = str(getattr(orig, "sqlstate", "") or "")
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    table = _table(getattr(diag, "table_name", None))
    detail = str(getattr(diag, "message_detail", None) or "")
    if isinstance(exc, IntegrityError) or sqlstate.startswith("23"):
        if sqlstate == "23505":
            return Conflict(f"{table}已存在{_key(detail)}")
        if sqlstate == "23503":
            return NotFound(f"{table}引用的记录不存在{_key(detail)}")
        if sqlstate == "23502":
            column = COLUMNS.get(getattr(diag, "column_name", None) or "", "必填项")
            return ValidationError(f"{table}缺少{column}")
        return ValidationError(f"{table}的数据不符合约束 {constraint}".rstrip())
    if isinstance(exc, DataError) or sqlstate.startswith("22"):
        return ValidationError("数值格式不正确或超出数据库允许的范围")
    if sqlstate == "57014":
        return DatabaseUnavailable("数据库响应超时，请稍后重试")
    if sqlstate.startswith("40"):
        return Conflict("与同时进行的其他修改冲突，请重试")
    if isinstance(exc, OperationalError) or sqlstate.startswith(("08", "53", "57")):
        return DatabaseUnavailable("数据库无法连接或负载过高，请稍后重试")
    return None
