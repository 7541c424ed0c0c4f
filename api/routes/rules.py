"""`/api/v1/rules`: the rules in force in a region on a day, with their legal bases."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from api.auth import Reader
from api.deps import RuleSetDep, SettingsDep
from api.schemas.common import RegionCode
from api.schemas.rules import RulesInForce
from zoneguard.settings import local_today

router = APIRouter(prefix="/rules", tags=["rules"])


@router.get("", response_model=RulesInForce)
def rules_in_force(
    rules: RuleSetDep, settings: SettingsDep,
    key: Reader,  # noqa: ARG001 - the key only authorises the read
    region: RegionCode | None = None, on: date | None = None,
) -> dict[str, Any]:
    """The rules that decide some category and level in `region` (default: national) on `on`."""
    day = on or local_today(settings.timezone)
    return {"rule_set_version": rules.version, "region": region, "on": day,
            "rules": [rule.public() for rule in rules.rules_in_force(region, day)]}
