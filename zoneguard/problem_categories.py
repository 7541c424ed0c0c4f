"""Categories of hand-registered problems (data/problems.yaml): code, 中文名, 责任单位, 回头看.

Problems no licence scan finds — 无证流动摊点, 占道经营, 违停 … — are registered by hand in
one of these categories. The file is data, validated like the rule files: every problem
raises `CatalogueError` naming the file and, where it can, the line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from zoneguard.errors import CatalogueError, ValidationError
from zoneguard.field_problems import describe

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Words = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Citation(BaseModel):
    """Where a source policy names the problem: the document and its words."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    document: Words
    text: Words

    def display(self) -> str:
        """The citation as printed for people."""
        return f"{self.document}：“{self.text}”"


class ProblemCategory(BaseModel):
    """One category: code, Chinese name, default responsible unit, days until 回头看."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Code
    name: Name
    unit: Name  # the default responsible unit (责任单位)
    lookback_days: int = Field(ge=1, le=3650)  # 回头看: days after registration
    citation: Citation | None = None

    def public(self) -> dict[str, Any]:
        """JSON-ready description for clients."""
        return {"code": self.code, "name": self.name, "unit": self.unit,
                "lookback_days": self.lookback_days,
                "citation": None if self.citation is None else self.citation.display()}


class Catalogue(BaseModel):
    """The problem categories of a file, in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    categories: tuple[ProblemCategory, ...] = Field(min_length=1)
    source: str = ""

    @pydantic.model_validator(mode="after")
    def _unique(self) -> Catalogue:
        seen: set[str] = set()
        for index, category in enumerate(self.categories):
            if category.code in seen:
                raise ValueError(f"categories[{index}]：类别代码 {category.code!r} 重复")
            seen.add(category.code)
        return self

    def known(self) -> str:
        """The codes and names for error messages, e.g. street_vendor（无证流动摊点）."""
        return "、".join(f"{c.code}（{c.name}）" for c in self.categories)

    def get(self, code: str) -> ProblemCategory:
        """The category of a code; ValidationError listing the known ones otherwise."""
        for category in self.categories:
            if category.code == code:
                return category
        raise ValidationError(f"未知问题类别 {code!r}；可选类别：{self.known()}",
                              known=[c.code for c in self.categories])


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (deepest found)."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _duplicate(node: yaml.Node | None) -> str | None:
    """The first repeated mapping key (PyYAML would silently keep the last), with its line."""
    if isinstance(node, yaml.MappingNode):
        keys = [k for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        for index, key in enumerate(keys):
            if any(key.value == prior.value for prior in keys[:index]):
                return f"第 {key.start_mark.line + 1} 行：字段 {key.value!r} 重复出现"
        children: list[yaml.Node] = [v for _, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        return None
    return next((found for child in children if (found := _duplicate(child))), None)


def _message(error: Any, root: yaml.Node | None) -> str:
    loc = tuple(error["loc"])
    message = describe(error, {"extra_forbidden": "未知字段", "missing": "缺少此字段"}) or \
        str(error["msg"]).removeprefix("Value error, ")
    line = _line(root, loc)
    where = ".".join(map(str, loc))
    return "：".join(p for p in (f"第 {line} 行" if line else "", where, message) if p)


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a problem-category file; CatalogueError names the file and line."""
    try:
        body = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}：无法读取问题类别文件：{exc}", file=str(path)) from None
    try:
        root = yaml.compose(body, Loader=yaml.SafeLoader)
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
        detail = getattr(exc, "problem", None) or exc
        raise CatalogueError(f"{path}：YAML 格式有误{where}：{detail}", file=str(path)) from None
    if (repeated := _duplicate(root)) is not None:
        raise CatalogueError(f"{path}：{repeated}", file=str(path))
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}：文件内容应为映射，含 version 和 categories 字段",
                             file=str(path))
    try:
        return Catalogue.model_validate({**data, "source": str(path)})
    except pydantic.ValidationError as exc:
        problems = [_message(e, root) for e in exc.errors()]
        raise CatalogueError(f"{path}：" + "；".join(problems), file=str(path),
                             problems=problems) from None


@lru_cache(maxsize=8)
def _cached(path: Path, mtime_ns: int) -> Catalogue:  # noqa: ARG001 - part of the cache key
    return load_catalogue(path)


def catalogue(path: Path) -> Catalogue:
    """The categories of a file, read again only when the file changes."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise CatalogueError(f"{path}：无法读取问题类别文件：{exc}", file=str(path)) from None
    return _cached(path, mtime)
