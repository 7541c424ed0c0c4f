"""A scan left `running` by a process that died is marked failed (扫描中断) at API start."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.scans import fail_interrupted
from zoneguard.services.scan.sql import LOCK_KEY


def _running_scan(session: Session) -> int:
    return int(session.execute(text(
        "INSERT INTO scan (trigger, status, rule_set_version) VALUES ('api', 'running', 't') "
        "RETURNING id")).scalar_one())


def _status(session: Session, scan_id: int) -> tuple[str, str | None]:
    row = session.execute(text("SELECT status, error FROM scan WHERE id = :id"),
                          {"id": scan_id}).one()
    return row.status, row.error


def test_a_running_scan_without_its_lock_holder_becomes_failed(session: Session) -> None:
    scan_id = _running_scan(session)
    assert fail_interrupted(session.connection()) == 1
    status, error = _status(session, scan_id)
    assert status == "failed" and error is not None and error.startswith("扫描中断")
    assert fail_interrupted(session.connection()) == 0


def test_a_scan_whose_process_still_holds_the_lock_stays_running(session: Session) -> None:
    scan_id = _running_scan(session)
    other = create_engine(session.get_bind().engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            assert fail_interrupted(session.connection()) == 0
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    finally:
        other.dispose()
    assert _status(session, scan_id) == ("running", None)
