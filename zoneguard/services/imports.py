"""Import service: read and validate a file, then COPY + upsert it in one savepoint.

All-or-nothing by default: any rejected row raises `ImportProblem` and nothing is written.
With `skip_invalid` the good rows are written and the rejected ones reported. With `dry_run`
the whole write runs inside a savepoint that is rolled back, so the counts are exact.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.domain import Category
from zoneguard.errors import ImportProblem
from zoneguard.imports import ImportKind, ParsedImport, RowProblem, read_table
from zoneguard.models import AuditLog, ImportRecord
from zoneguard.services import import_sql as sql
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings, get_settings


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
    settings: Settings | None = None,
) -> ImportOutcome:
    """Import one registry file of `kind` whose coordinates are in `crs`."""
    cfg = settings or get_settings()
    known = current_rule_set(cfg).categories() | {c.value for c in Category}
    parsed = read_table(path, kind=kind, crs=crs, column_map=column_map, category=category,
                        region=region, known_categories=known,
                        max_bytes=cfg.import_max_bytes, sheet=sheet, layer=layer)
    if file_name:
        parsed.file_name = file_name
    if not parsed.ok and not skip_invalid:
        raise _rejected(parsed)
    frame = parsed.valid_frame() if skip_invalid else parsed.frame
    outcome = ImportOutcome(None, kind, len(parsed.frame), rejected=len(parsed.rejected_rows),
                            dry_run=dry_run, parsed=parsed)
    savepoint = session.begin_nested()
    try:
        record = ImportRecord(kind=kind, file_name=parsed.file_name,
                              file_sha256=parsed.file_sha256, source_crs=parsed.source_crs,
                              actor=actor, rows_read=len(parsed.frame))
        session.add(record)
        session.flush()
        outcome.import_id = record.id
        writer = {"premises": _write_premises, "schools": _write_schools,
                  "gates": _write_gates}[kind]
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


def _rejected(parsed: ParsedImport) -> ImportProblem:
    problem = parsed.as_problem()
    problem.extra["parsed"] = parsed
    return problem


def _cell(value: Any) -> Any:
    """Python value for COPY: NaN/NaT → None, numpy scalars → Python, dicts → JSON."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "item") and not isinstance(value, list | tuple | str):
        value = value.item()
    if isinstance(value, datetime):
        return value.date()
    if value.__class__.__name__ in ("NaTType", "NAType"):
        return None
    return value


def _ewkb(geoms: Any) -> list[str | None]:
    """Hex EWKB with SRID 4326 for COPY into geometry columns (None stays NULL)."""
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), 4326)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def _copy(session: Session, table: str, columns: tuple[str, ...],
          rows: list[tuple[Any, ...]]) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def _geoms(frame: Any) -> Any:
    return frame.geometry.to_numpy()


def _write_premises(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                    *, close_missing: bool) -> None:
    _stage(session, "stage_premises", sql.STAGE_PREMISES)
    location = _ewkb(_geoms(frame))
    entrance = _ewkb(frame["entrance"].to_numpy()) if len(frame) else []
    rows = [
        (*(_cell(v) for v in rec[:9]), location[i], entrance[i], _cell(rec[9]), _cell(rec[10]))
        for i, rec in enumerate(frame[[
            "licence_no", "name", "category", "address", "operator", "region", "issued_on",
            "expires_on", "status", "attributes", "source_row"]].itertuples(index=False))
    ]
    rows = [(r[0], r[1], r[2], r[3], r[4], r[5] or "", *r[6:]) for r in rows]
    _copy(session, "stage_premises", sql.STAGE_PREMISES_COLUMNS, rows)
    params = {"import_id": outcome.import_id, "source": parsed.file_name,
              "source_crs": parsed.source_crs}
    session.execute(text(sql.PREMISES_HISTORY), params)
    outcome.updated = _rowcount(session.execute(text(sql.PREMISES_UPDATE), params))
    outcome.inserted = _rowcount(session.execute(text(sql.PREMISES_INSERT), params))
    outcome.missing = len(session.execute(text(sql.PREMISES_MISSING)).all())
    if close_missing:
        outcome.closed = _rowcount(session.execute(text(sql.PREMISES_CLOSE), params))


def _as_multi(geom: Any) -> Any:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom


def _write_schools(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                   *, close_missing: bool) -> None:  # noqa: ARG001 - schools are never closed
    _stage(session, "stage_school", sql.STAGE_SCHOOLS)
    geoms = list(_geoms(frame))
    areas = [_as_multi(g) if g.geom_type in ("Polygon", "MultiPolygon") else None for g in geoms]
    points = [shapely.point_on_surface(g) if a is not None else g for g, a in zip(geoms, areas,
                                                                                strict=True)]
    boundary = _ewkb(areas)
    location = _ewkb(points)
    rows = []
    for i, rec in enumerate(frame[["code", "name", "levels", "enrolment", "region", "address",
                                   "opened_on", "closed_on", "attributes",
                                   "source_row"]].itertuples(index=False)):
        levels = list(rec[2]) if rec[2] is not None else []
        rows.append((_cell(rec[0]), _cell(rec[1]), levels, _cell(rec[3]), _cell(rec[4]),
                     _cell(rec[5]), _cell(rec[6]), _cell(rec[7]), boundary[i], location[i],
                     "boundary" if areas[i] is not None else "point", _cell(rec[8]),
                     _cell(rec[9])))
    _copy(session, "stage_school", sql.STAGE_SCHOOLS_COLUMNS, rows)
    params = {"import_id": outcome.import_id, "source": parsed.file_name}
    session.execute(text(sql.SCHOOL_HISTORY), params)
    outcome.updated = _rowcount(session.execute(text(sql.SCHOOL_UPDATE), params))
    outcome.inserted = _rowcount(session.execute(text(sql.SCHOOL_INSERT), params))


def _write_gates(session: Session, frame: Any, outcome: ImportOutcome, parsed: ParsedImport,
                 *, close_missing: bool) -> None:  # noqa: ARG001 - gates are replaced per school
    _stage(session, "stage_gate", sql.STAGE_GATES)
    location = _ewkb(_geoms(frame))
    rows = [(_cell(r[0]), _cell(r[1]) or "main", _cell(r[2]), location[i], _cell(r[3]))
            for i, r in enumerate(frame[["school_code", "kind", "name",
                                         "source_row"]].itertuples(index=False))]
    _copy(session, "stage_gate", sql.STAGE_GATES_COLUMNS, rows)
    unknown = session.execute(text(sql.GATE_UNKNOWN_SCHOOLS)).all()
    if unknown:
        for row, code in unknown:
            parsed.problems.append(RowProblem(row, "school_code", code,
                                              "no school with this code is registered"))
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
