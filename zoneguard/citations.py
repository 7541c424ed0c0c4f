"""Citations of legal sources and the field types rule files share (codes, counts, text)."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from zoneguard.domain import Level


def _as_code(value: Any) -> Any:
    code = str(value) if type(value) is int else value
    if not isinstance(code, str) or not re.fullmatch(r"CN|[0-9]{2}|[0-9]{4}|[0-9]{6}", code):
        raise ValueError(f"应为 CN 或 2、4、6 位 GB/T 2260 行政区划代码，实际为 {value!r}")
    if code.endswith("00"):
        raise ValueError(f"{code!r} 应写作 {code.rstrip('0')!r}：去掉末尾成对的 00")
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
            raise ValueError("标题不要带书名号《》")
        return value

    def display(self) -> str:
        """The citation as printed for people: authority, title, 文号, article, quoted text."""
        head = f"{self.authority}《{self.title}》"
        if self.number:
            head += f"（{self.number}）"
        if self.article:
            head += self.article
        return f"{head}：“{self.text}”" if self.text else head


LEVEL_ORDER = {level: index for index, level in enumerate(Level)}


class Provision(BaseModel):
    """What a rule and a facility requirement share: protected levels, citations, dates.

    The fields stay on each model (their order is the one files and the API show); this base
    holds the checks and the views both make of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    if TYPE_CHECKING:
        protects: tuple[Level, ...]
        citations: tuple[Citation, ...]
        effective_from: date
        effective_to: date | None

    @pydantic.field_validator("protects", check_fields=False)
    @classmethod
    def _canonical(cls, value: tuple[Level, ...]) -> tuple[Level, ...]:
        return tuple(sorted(set(value), key=LEVEL_ORDER.__getitem__))

    def check_period(self) -> None:
        """Raise ValueError when the provision ends before it starts."""
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} 早于 "
                             f"effective_from {self.effective_from}")

    def in_force(self, on: date) -> bool:
        """Tell whether the provision is effective on a day (both ends inclusive)."""
        return self.effective_from <= on <= (self.effective_to or date.max)

    @property
    def basis(self) -> str:
        """The legal basis as printed for people: every citation, without internal labels."""
        return "；".join(citation.display() for citation in self.citations)

    def public(self) -> dict[str, Any]:
        """The provision as users see it: no confidence labels, sources or notes."""
        out = self.model_dump(mode="json", exclude={"notes", "citations"})
        out["citations"] = [c.model_dump(mode="json", exclude={"confidence", "source"})
                            for c in self.citations]
        out["basis"] = self.basis
        return out
