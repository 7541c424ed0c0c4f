"""Citations of legal sources and the field types rule files share (codes, counts, text)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _as_code(value: Any) -> Any:
    code = str(value) if type(value) is int else value
    if not isinstance(code, str) or not re.fullmatch(r"CN|[0-9]{2}|[0-9]{4}|[0-9]{6}", code):
        raise ValueError(f"must be CN or a 2, 4 or 6-digit GB/T 2260 code, got {value!r}")
    if code.endswith("00"):
        raise ValueError(f"write {code.rstrip('0')!r} for {code!r}: drop trailing 00 pairs")
    return code


Code = Annotated[str, BeforeValidator(_as_code)]
Count = Annotated[int, Field(ge=1, strict=True)]
Text = Annotated[str, Field(min_length=1, strict=True)]


class Confidence(StrEnum):
    """How well a citation was checked (for rule authors only, never shown to users)."""

    CHECKED = "C"  # the article text was read
    SECONDARY = "S"  # the text comes from a secondary source
    UNVERIFIED = "U"  # unverified or inferred


class Citation(BaseModel):
    """One cited legal source: what users read, and how well it was checked (internal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    authority: Text  # issuing authority as people name it: 国务院, 北京市人民代表大会常务委员会
    title: Text  # document title without 《》
    number: Text | None = None  # 文号: 国务院令第363号
    article: Text | None = None  # 第九条
    text: Text | None = None  # the quoted words
    confidence: Confidence  # internal: never reaches a user-facing output
    source: Text | None = None  # internal: where the text was read

    @pydantic.field_validator("title")
    @classmethod
    def _bare_title(cls, value: str) -> str:
        if value.startswith("《") or value.endswith("》"):
            raise ValueError("write the title without 《》")
        return value

    def display(self) -> str:
        """The citation as printed for people: authority, title, 文号, article, quoted text."""
        head = f"{self.authority}《{self.title}》"
        if self.number:
            head += f"（{self.number}）"
        if self.article:
            head += self.article
        return f"{head}：“{self.text}”" if self.text else head
