"""The write side of a facilities import: upsert by 设施编号, school codes resolved.

A facilities file is small (a district's signs, posts and cameras), so rows are written one
by one through the ORM inside the import's savepoint; a row whose 设施编号 is registered
updates that facility (a retired one comes back into service), a new code is inserted. A
school code that is not registered rejects the row, and so the whole file (all or nothing);
a blank region is taken from the row's school before the caller's scope is checked.

As with premises, the file is the full list of its registries: each (设施类型, 行政区划) pair
it holds. Active facilities of those registries that the file no longer lists are counted as
missing; only with `close_missing` are they retired (on `today`), each with an audit row.
Facilities without a region belong to no registry and are never retired by an import.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from zoneguard.imports import ParsedImport, RowProblem
from zoneguard.models import Facility, School
from zoneguard.services.access.audit import audit


def _value(value: Any) -> Any:
    """A frame cell as a Python value (NaN, NaT and <NA> as None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return None if str(value) in ("NaT", "<NA>") else value


def resolve_schools(session: Session, frame: Any, parsed: ParsedImport) -> bool:
    """Check each row's 学校标识码 and take a blank region from its school, before the scope.

    A row whose school is not registered, or whose region and school's region disagree
    (neither contains the other), gets a row problem; return whether every row is fine.
    """
    codes = [str(c) for c in frame["school_code"].tolist() if _value(c) is not None]
    if not codes:
        return True
    regions_ = dict(session.execute(select(School.code, School.region)
                                    .where(School.code.in_(codes))).all())
    filled, fine = [], True
    for row, code, region in zip(frame["source_row"].tolist(), frame["school_code"].tolist(),
                                 frame["region"].tolist(), strict=True):
        code, region = _value(code), _value(region) or None
        school_region = regions_.get(code) or None if code is not None else None
        if code is not None and code not in regions_:
            parsed.problems.append(RowProblem(int(row), "学校标识码", code,
                                              "没有登记此学校标识码的学校"))
            parsed.rejected_rows.add(int(row))
            fine = False
        elif region and school_region and not (region.startswith(school_region)
                                               or school_region.startswith(region)):
            parsed.problems.append(RowProblem(
                int(row), "行政区划代码", region,
                f"与学校 {code} 登记的区划 {school_region} 不一致"))
            parsed.rejected_rows.add(int(row))
            fine = False
        filled.append(region or school_region)
    frame["region"] = filled
    return fine


def write_facilities(session: Session, frame: Any, outcome: Any, parsed: ParsedImport,
                     *, close_missing: bool, today: date,
                     actor: str = "cli") -> list[tuple[int, str]]:
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
    # the stored coordinates as doubles: compared exactly (text forms round differently)
    places: dict[str, tuple[float, float]] = {row.code: (row.x, row.y) for row in session.execute(
        select(Facility.code, func.ST_X(Facility.location).label("x"),
               func.ST_Y(Facility.location).label("y"))
        .where(Facility.code.in_(list(existing))))} if existing else {}
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
        same_place = places.get(found.code) == (point.x, point.y)
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
    missing = _missing(session, frame)
    outcome.missing = len(missing)
    if close_missing:
        for facility in missing:
            facility.status, facility.retired_on = "retired", today
            facility.import_id, facility.updated_at = outcome.import_id, func.now()
            audit(session, actor=actor, action="facility_retire", entity="facility",
                  entity_id=facility.id, after={"retired_on": today.isoformat(),
                                                "import_id": outcome.import_id})
        outcome.closed = len(missing)
        session.flush()
    return []


def _missing(session: Session, frame: Any) -> list[Facility]:
    """Active facilities of the file's (kind, region) registries that it does not list."""
    pairs = {(str(k), str(r)) for k, r in zip(frame["kind"].tolist(), frame["region"].tolist(),
                                              strict=True) if _value(r) is not None}
    if not pairs:
        return []
    return list(session.scalars(
        select(Facility).where(tuple_(Facility.kind, Facility.region).in_(sorted(pairs)),
                               Facility.status == "active",
                               Facility.code.not_in(frame["code"].tolist()))
        .order_by(Facility.id)))

