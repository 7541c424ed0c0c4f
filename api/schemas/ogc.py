"""OGC API Features documents: landing page, conformance, collections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from api.schemas.common import Link


class LandingPage(BaseModel):
    """The OGC API landing page."""

    model_config = ConfigDict(extra="allow")
    title: str
    description: str | None = None
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes implemented."""

    conformsTo: list[str]  # noqa: N815 - OGC API member name


class Collection(BaseModel):
    """One collection's description."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str | None = None
    description: str | None = None
    itemType: str = "feature"  # noqa: N815 - OGC API member name
    crs: list[str] = []
    extent: dict[str, Any] | None = None
    links: list[Link]


class Collections(BaseModel):
    """Every collection."""

    links: list[Link]
    collections: list[Collection]
