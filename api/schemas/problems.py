"""Hand-registered problems: the registration and the categories."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from api.schemas.common import Location, LongText, Text


class ProblemIn(BaseModel):
    """A problem seen near a school: category, where, what (photos follow as evidence)."""

    model_config = ConfigDict(extra="forbid")
    category: Text  # a code of GET /api/v1/problems/categories, e.g. street_vendor
    location: Location
    description: LongText
    school_code: Text | None = None  # default: the nearest open school within 500 m


class ProblemCategoryOut(BaseModel):
    """One category: code, 中文名, default 责任单位, 回头看 days, cited source."""

    code: str
    name: str
    unit: str
    lookback_days: int
    citation: str | None


class ProblemCategories(BaseModel):
    """The categories of hand-registered problems, in file order."""

    version: str
    items: list[ProblemCategoryOut]
