"""Import service: read and validate a file, then COPY + upsert it in one savepoint.

All-or-nothing by default: any rejected row raises `ImportProblem` and nothing is written.
With `skip_invalid` the good rows are written and the rejected ones reported. With `dry_run`
the whole write runs inside a savepoint that is rolled back, so the counts are exact.

The write is set-based: the rows are COPYed (`import_copy`) into a temporary staging table
and merged into the registry by a few SQL statements (`import_sql`). A first load of premises
(no premises of any of the file's registries, category and region, exist yet) has nothing to
merge: its rows are COPYed straight into premises, under a lock that keeps other writers out.

A bulk load of premises (at least `BULK_MIN_ROWS` new rows, and no fewer than the rows
already registered) drops the premises secondary indexes (`bulk.upkeep_deferred`) before
the insert and builds them again after it, which is faster than maintaining them row by row.
The price: from the drop to the commit the import holds ACCESS EXCLUSIVE on premises, so
screenings and scans wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.domain import Category
from zoneguard.errors import ImportProblem
from zoneguard.imports import ImportKind, Limits, ParsedImport, RowProblem, read_table
from zoneguard.imports.vectorised import gc_paused
from zoneguard.models import AuditLog, ImportRecord
from zoneguard.scope import Scope
from zoneguard.services.bulk import upkeep_deferred
from zoneguard.services.ingest import copy as staged
from zoneguard.services.ingest import sql
from zoneguard.services.ingest.facilities import resolve_schools, write_facilities
from zoneguard.services.ingest.scope import check_choices, check_rows
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings

#: Staged premises rows from which an import checks for a bulk load (see `_bulk_load`).
BULK_MIN_ROWS = 100_000


@dataclass
class ImportOutcome:
    """What an import did (or, for a dry run, would do)."""

    import_id: int | None
    kind: str
    rows_read: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    missing: int = 0
    closed: int = 0
    dry_run: bool = False
    parsed: ParsedImport | None = field(default=None, repr=False)
    #: Wall seconds per stage: read (read + validate), then either copy (a first load COPYed
    #: into premises) or stage (COPY into staging) and upsert; indexes is the part of copy
    #: or upsert spent rebuilding the GiST indexes after a bulk load.
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary with the row-level report."""
        report = self.parsed.summary() if self.parsed is not None else {}
        return {"import_id": self.import_id, "kind": self.kind, "rows_read": self.rows_read,
                "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "missing": self.missing, "closed": self.closed, "dry_run": self.dry_run,
                "report": report}


def import_file(
    session: Session,
    path: Path,
    *,
    kind: ImportKind,
    crs: str | None,
    column_map: dict[str, str] | None = None,
    category: str | None = None,
    region: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    close_missing: bool = False,
    sheet: str | None = None,
    layer: str | None = None,
    actor: str = "cli",
    file_name: str | None = None,
    settings: Settings,
    scope: Scope | None = None,
) -> ImportOutcome:
    """Import one registry file of `kind` whose coordinates are in `crs`.

    A caller's `scope` is applied before anything is written: the upload's kind, category
    and region, then every row to be written (Forbidden when one lies beyond it).
    """
    check_choices(scope, kind=kind, category=category, region=region)
    cfg = settings
    known = current_rule_set(cfg).categories() | {c.value for c in Category}
    started = time.perf_counter()
    with gc_paused():  # one collection after the read, not one after each of its steps
        parsed = read_table(path, kind=kind, crs=crs, column_map=column_map,
                            category=category, region=region, known_categories=known,
                            limits=Limits.from_settings(cfg), sheet=sheet, layer=layer)
    read_s = time.perf_counter() - started
    if file_name:
        parsed.file_name = file_name
    if not parsed.ok and not skip_invalid:
        raise _rejected(parsed)
    frame = parsed.valid_frame() if skip_invalid else parsed.frame
    if kind == "facilities" and not resolve_schools(session, frame, parsed):
        raise _rejected(parsed)
    check_rows(scope, kind=kind, frame=frame)
    outcome = ImportOutcome(None, kind, len(parsed.frame), rejected=len(parsed.rejected_rows),
                            dry_run=dry_run, parsed=parsed, timings={"read": read_s})
    savepoint = session.begin_nested()
    try:
        record = ImportRecord(kind=kind, file_name=parsed.file_name,
                              file_sha256=parsed.file_sha256, source_crs=parsed.source_crs,
                              actor=actor, rows_read=len(parsed.frame))
        session.add(record)
        session.flush()
        outcome.import_id = record.id
        today = datetime.now(ZoneInfo(cfg.timezone)).date()  # a retired facility's date
        writers: dict[str, Callable[..., None]] = {
            "premises": _write_premises, "schools": _write_schools, "gates": _write_gates,
            "facilities": partial(_write_facilities, today=today, actor=actor)}
        writer = writers[kind]
        with gc_paused():
            writer(session, frame, outcome, parsed, close_missing=close_missing)
        outcome.unchanged = len(frame) - outcome.inserted - outcome.updated
        for name in ("inserted", "updated", "unchanged", "rejected", "closed"):
            setattr(record, name, getattr(outcome, name))
        record.report = parsed.summary()
        session.add(AuditLog(actor=actor, action="import", entity="import",
                             entity_id=str(record.id), after=outcome.as_dict()))
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
        outcome.import_id = None
    else:
        savepoint.commit()
    return outcome


def _write_facilities(session: Session, frame: Any, outcome: ImportOutcome,
                      parsed: ParsedImport, *, close_missing: bool, today: date,
                      actor: str) -> None:
    if write_facilities(session, frame, outcome, parsed, close_missing=close_missing,
                        today=today, actor=actor):
        raise _rejected(parsed)


def _rejected(parsed: ParsedImport) -> ImportProblem:
    problem = parsed.as_problem()
    problem.extra["parsed"] = parsed
    return problem


@contextmanager
def _timed(outcome: ImportOutcome, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    outcome.timings[stage] = outcome.timings.get(stage, 0.0) + time.perf_counter() - started


def _write_premises(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                    *, close_missing: bool) -> None:
    params = {"import_id": outcome.import_id, "source": parsed.file_name,
              "source_crs": parsed.source_crs}
    columns = staged.premises_columns(frame)
    attributes = parsed.valid_attributes_json()  # the rows of `frame`, as JSON text
    if attributes is not None:
        columns["attributes"] = ("json_text", attributes)
    rows = len(frame)
    if _first_load(session, columns):
        with _timed(outcome, "copy"):
            rebuild = rows >= BULK_MIN_ROWS and _bulk_load(session, rows, lambda: rows)
            with _indexes_rebuilt(session, outcome, enabled=rebuild):
                staged.copy_csv(session, "premises", columns | staged.constants(params, rows))
        outcome.inserted = rows  # no premises of the file's registries existed
        return
    with _timed(outcome, "stage"):
        _stage(session, "stage_premises", sql.STAGE_PREMISES)
        columns["source_row"] = ("int", staged.cells(frame["source_row"]))
        staged.copy_csv(session, "stage_premises", columns)
    with _timed(outcome, "upsert"):
        rebuild = rows >= BULK_MIN_ROWS and _bulk_load(
            session, rows, lambda: int(session.execute(text(sql.PREMISES_NEW_ROWS)).scalar_one()))
        # missing rows are those of the file's registries it does not list: the upsert
        # touches only listed rows, so counting first gives the same rows, faster
        outcome.missing = len(session.execute(text(sql.PREMISES_MISSING)).all())
        outcome.updated = _rowcount(session.execute(text(sql.PREMISES_UPDATE), params))
        with _indexes_rebuilt(session, outcome, enabled=rebuild):
            outcome.inserted = _rowcount(session.execute(text(sql.PREMISES_INSERT), params))
        if close_missing:
            outcome.closed = _rowcount(session.execute(text(sql.PREMISES_CLOSE), params))


def _first_load(session: Session, columns: dict[str, tuple[str, Any]]) -> bool:
    """Whether no premises of the file's registries (category, region) exist: a first load.

    A yes is checked again under the lock that excludes other writers of premises, so a
    concurrent import of the same registry cannot slip in between.
    """
    table = pa.table({"category": columns["category"][1], "region": columns["region"][1]})
    pairs = table.group_by(["category", "region"]).aggregate([])
    if not pairs.num_rows:
        return False
    categories, regions = (pairs.column(name).to_pylist() for name in ("category", "region"))
    check = text(sql.PREMISES_REGISTRY_EXISTS)
    keys = {"categories": categories, "regions": regions}
    if session.execute(check, keys).scalar_one():
        return False
    session.execute(text(sql.PREMISES_LOCK_WRITERS))
    return not session.execute(check, keys).scalar_one()


def _bulk_load(session: Session, staged: int, new_rows: Callable[[], int]) -> bool:
    """Whether the rows are a bulk load: new rows at least half the registry after it.

    Before looking, it takes a lock that excludes other writers of premises (readers go on),
    so two bulk imports queue here instead of deadlocking on the index rebuild's lock.
    """
    session.execute(text(sql.PREMISES_LOCK_WRITERS))
    existing = session.execute(text(sql.PREMISES_ROWS_UP_TO), {"limit": staged}).scalar_one()
    if existing >= staged:  # the new rows cannot outnumber the rows already there
        return False
    fresh = new_rows()
    return bool(fresh >= BULK_MIN_ROWS and fresh >= existing)


def _indexes_rebuilt(session: Session, outcome: ImportOutcome, *,
                     enabled: bool) -> AbstractContextManager[None]:
    """Drop the premises secondary indexes around a bulk insert, build them again after it.

    The drop holds ACCESS EXCLUSIVE on premises until the import commits: screenings and
    scans wait for a bulk load instead of reading a half-indexed table.
    """
    return upkeep_deferred(session.connection(), ["premises"], enabled=enabled,
                           restoring=partial(_timed, outcome, "indexes"))


def _write_schools(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                   *, close_missing: bool) -> None:  # noqa: ARG001 - schools are never closed
    _stage(session, "stage_school", sql.STAGE_SCHOOLS)
    geoms = frame.geometry.to_numpy()
    is_area = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    areas = np.array([(MultiPolygon([g]) if isinstance(g, Polygon) else g) if a else None
                      for g, a in zip(geoms, is_area, strict=True)], dtype=object)
    points = np.where(is_area, shapely.point_on_surface(geoms), geoms)
    staged.copy_csv(session, "stage_school", {
        "code": ("text", staged.cells(frame["code"])),
        "name": ("text", staged.cells(frame["name"])),
        "levels": ("text[]", staged.cells(frame["levels"])),
        "enrolment": ("int", staged.cells(frame["enrolment"])),
        "region": ("text", staged.cells(frame["region"])),
        "address": ("text", staged.cells(frame["address"])),
        "opened_on": ("date", staged.cells(frame["opened_on"])),
        "closed_on": ("date", staged.cells(frame["closed_on"])),
        "boundary": ("geometry", areas), "location": ("geometry", points),
        "precision": ("text", np.where(is_area, "boundary", "point").tolist()),
        "attributes": ("json", frame["attributes"].tolist()),
        "source_row": ("int", staged.cells(frame["source_row"])),
    })
    params = {"import_id": outcome.import_id, "source": parsed.file_name}
    session.execute(text(sql.SCHOOL_HISTORY), params)
    outcome.updated = _rowcount(session.execute(text(sql.SCHOOL_UPDATE), params))
    outcome.inserted = _rowcount(session.execute(text(sql.SCHOOL_INSERT), params))


def _write_gates(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                 *, close_missing: bool) -> None:  # noqa: ARG001 - gates are replaced per school
    _stage(session, "stage_gate", sql.STAGE_GATES)
    staged.copy_csv(session, "stage_gate", {
        "school_code": ("text", staged.cells(frame["school_code"])),
        "kind": ("text", staged.cells(frame["kind"].fillna("main"))),
        "name": ("text", staged.cells(frame["name"])),
        "location": ("geometry", frame.geometry.to_numpy()),
        "source_row": ("int", staged.cells(frame["source_row"])),
    })
    unknown = session.execute(text(sql.GATE_UNKNOWN_SCHOOLS)).all()
    if unknown:
        for row, code in unknown:
            parsed.problems.append(RowProblem(row, "school_code", code,
                                              "没有登记此学校标识码的学校"))
            parsed.rejected_rows.add(row)
        raise _rejected(parsed)
    params = {"import_id": outcome.import_id, "source": parsed.file_name}
    deleted = _rowcount(session.execute(text(sql.GATE_DELETE), params))
    outcome.inserted = _rowcount(session.execute(text(sql.GATE_INSERT), params))
    outcome.updated = min(deleted, outcome.inserted)
    outcome.inserted -= outcome.updated


def _stage(session: Session, table: str, ddl: str) -> None:
    """(Re)create a staging table; an earlier import in the same transaction may have one."""
    session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    session.execute(text(ddl))


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)
