"""A scan that inserts more findings than exist does so without per-row key and index upkeep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from benchmarks.synthetic import city, load
from tests.factories import write_rules
from zoneguard.services.scan import diff as scan_diff
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

SCHEMA = """
SELECT 'constraint' AS kind, conname AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid IN ('finding'::regclass, 'finding_event'::regclass)
UNION ALL
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid IN ('finding'::regclass, 'finding_event'::regclass)
ORDER BY 1, 2
"""
FINDINGS = """
SELECT ST_AsText(s.location) AS school, p.licence_no, f.rule_id, f.verdict,
       round(f.distance_m::numeric, 6), ST_AsText(f.line), f.reasons::text, f.state,
       e.from_state, e.to_state
FROM finding f JOIN finding_event e ON e.finding_id = f.id
JOIN school s ON s.id = f.school_id JOIN premises p ON p.id = f.premises_id
ORDER BY 1, 2, 3
"""


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules")})


def _schema(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text(SCHEMA))]


def _first_scan(session: Session, cfg: Settings, bulk_from: int,
                monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[Any, ...]], list[str]]:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    load(raw, city(schools=30, premises=600, seed=11))
    monkeypatch.setattr(scan_diff, "BULK_MIN_FINDINGS", bulk_from)
    statements: list[str] = []
    engine = session.get_bind()

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        run_scan(session, trigger="manual", settings=cfg, region="4201")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return [tuple(r) for r in session.execute(text(FINDINGS))], statements


def test_a_bulk_first_scan_writes_the_same_findings_and_restores_every_key_and_index(
        session: Session, cfg: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _schema(session)
    assert any(kind == "constraint" and "FOREIGN KEY" in d for kind, _, d in before)
    nested = session.begin_nested()
    plain, plain_sql = _first_scan(session, cfg, 10**9, monkeypatch)
    nested.rollback()
    bulk, bulk_sql = _first_scan(session, cfg, 10, monkeypatch)
    assert len(plain) > 20 and bulk == plain
    assert not any("DROP CONSTRAINT" in s for s in plain_sql)
    assert any("DROP CONSTRAINT" in s for s in bulk_sql)
    assert any(s.startswith("CREATE INDEX") for s in bulk_sql)
    assert _schema(session) == before
    orphans = session.execute(text(
        "SELECT count(*) FROM finding f LEFT JOIN premises p ON p.id = f.premises_id "
        "WHERE p.id IS NULL")).scalar_one()
    assert orphans == 0


def test_a_bulk_scan_that_fails_leaves_keys_indexes_and_findings_as_they_were(
        session: Session, cfg: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _schema(session)

    def crash(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(scan_diff, "_count", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        _first_scan(session, cfg, 10, monkeypatch)
    assert _schema(session) == before
    assert session.execute(text("SELECT count(*) FROM finding")).scalar_one() == 0
