"""Import results: counts and the row-level report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ImportOut(BaseModel):
    """What an import did (or, for a dry run, would do), with its row-level report."""

    model_config = ConfigDict(extra="allow")
    import_id: int | None
    kind: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    missing: int
    closed: int
    dry_run: bool
    report: dict[str, Any]
