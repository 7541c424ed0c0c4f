"""The write side of a facilities import: upsert by 设施编号, school codes resolved.

A facilities file is small (a district's signs, posts and cameras), so rows are written one
by one through the ORM inside the import's savepoint; a row whose 设施编号 is registered
updates that facility (a retired one comes back into service), a new code is inserted. A
school code that is not registered rejects the row, and so the whole file (all or nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoneguard.imports import ParsedImport, RowProblem
from zoneguard.models import Facility, School


def _value(value: Any) -> Any:
    """A frame cell as a Python value (NaN, NaT and <NA> as None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return None if str(value) in ("NaT", "<NA>") else value


def write_facilities(session: Session, frame: Any, outcome: Any, parsed: ParsedImport,
                     *, close_missing: bool) -> list[tuple[int, str]]:  # noqa: ARG001
    """Insert or update every row; return the (row, school code) pairs that are unknown."""
    codes = [c for c in frame["school_code"].tolist() if _value(c) is not None]
    schools = dict(session.execute(select(School.code, School.id)
                                   .where(School.code.in_(codes))).all())
    unknown = [(int(row), str(code)) for row, code in zip(
        frame["source_row"].tolist(), frame["school_code"].tolist(), strict=True)
        if _value(code) is not None and code not in schools]
    if unknown:
        for row, code in unknown:
            parsed.problems.append(RowProblem(row, "学校标识码", code,
                                              "没有登记此学校标识码的学校"))
            parsed.rejected_rows.add(row)
        return unknown
    existing = {f.code: f for f in session.scalars(
        select(Facility).where(Facility.code.in_(frame["code"].tolist())))}
    places: dict[str, str] = dict(session.execute(
        select(Facility.code, func.ST_AsText(Facility.location))
        .where(Facility.code.in_(list(existing)))).all()) if existing else {}
    for record in frame.to_dict(orient="records"):
        point = record["geometry"]
        values = {"kind": record["kind"], "name": record["name"],
                  "school_id": schools.get(_value(record["school_code"])),
                  "region": _value(record["region"]),
                  "direction_deg": _value(record["direction_deg"]),
                  "fov_deg": _value(record["fov_deg"]),
                  "installed_on": _value(record["installed_on"]),
                  "attributes": record.get("attributes") or {}}
        wkt = f"POINT({point.x!r} {point.y!r})"
        found = existing.get(record["code"])
        if found is None:
            session.add(Facility(code=record["code"], location=f"SRID=4326;{wkt}",
                                 source=parsed.file_name, import_id=outcome.import_id,
                                 **values))
            outcome.inserted += 1
            continue
        same_place = places.get(found.code) == wkt
        if same_place and found.status == "active" and all(
                getattr(found, k) == v for k, v in values.items()):
            continue
        for key, value in values.items():
            setattr(found, key, value)
        if not same_place:
            found.location = f"SRID=4326;{wkt}"
        found.status, found.retired_on = "active", None
        found.import_id, found.updated_at = outcome.import_id, func.now()
        outcome.updated += 1
    session.flush()
    return []

