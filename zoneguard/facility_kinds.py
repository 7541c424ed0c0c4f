"""Facility kinds, read from data/facility_kinds.yaml (code, 中文名, aliases)."""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from zoneguard.errors import ValidationError


class FacilityKind(BaseModel):
    """One kind of facility: its code, its Chinese name, whether it is a camera."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    camera: bool = False
    aliases: tuple[str, ...] = ()


class _KindsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kinds: tuple[FacilityKind, ...] = Field(min_length=1)


def kinds_path() -> Path:
    """The bundled kinds file."""
    return Path(__file__).resolve().parents[1] / "data" / "facility_kinds.yaml"


@lru_cache(maxsize=1)
def facility_kinds() -> dict[str, FacilityKind]:
    """Every facility kind by code, in file order."""
    data = yaml.safe_load(kinds_path().read_text(encoding="utf-8"))
    return {kind.code: kind for kind in _KindsFile.model_validate(data).kinds}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def parse_kind(value: object) -> str:
    """Return the code of a kind named by code, 中文名 or alias; raise ValueError otherwise."""
    text = _fold(str(value)) if value is not None else ""
    if not text:
        raise ValueError("设施类型为空")
    for kind in facility_kinds().values():
        if text in {kind.code, _fold(kind.name), *map(_fold, kind.aliases)}:
            return kind.code
    names = "、".join(f"{k.name}（{k.code}）" for k in facility_kinds().values())
    raise ValueError(f"无法识别的设施类型“{value}”；可填：{names}")


def derived_facility_code(kind: str, name: str, lon: float, lat: float) -> str:
    """A stable code for a facility without one: kind, name and place (about 1 m)."""
    digest = hashlib.sha1(f"{kind}|{name}|{lon:.5f}|{lat:.5f}".encode()).hexdigest()
    return f"gen:{digest[:16]}"


def kind_code(value: str) -> str:
    """Like `parse_kind`, raising ValidationError (for the API and CLI)."""
    try:
        return parse_kind(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def kind_name(code: str) -> str:
    """The 中文名 of a kind code (the code itself when unknown)."""
    kind = facility_kinds().get(code)
    return kind.name if kind else code
