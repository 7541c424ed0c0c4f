"""`/api/v1/workflow`: the case loop as data (states, actions, roles, needs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import CaseReader
from zoneguard.services.cases.flow import describe

router = APIRouter(prefix="/workflow", tags=["findings"])


@router.get("")
def workflow(key: CaseReader) -> dict[str, Any]:  # noqa: ARG001 - the key only authorises
    """The states (code, 中文名), the actions between them, who may take each, what it needs."""
    return describe()
