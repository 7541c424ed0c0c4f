"""Screenings stored by the group-commit writer: records, their ids, audit entries, rule set."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shapely.geometry import Point, box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.factories import add_school, write_rules
from tests.oracle import from_local
from tests.scratchdb import empty
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening import screen
from zoneguard.services.screening_store import pending_screening, screening_writer
from zoneguard.settings import Settings

LON, LAT = 114.0, 30.5


def test_a_batch_of_screenings_is_stored_with_ids_audit_entries_and_its_rule_set(
        scratch: tuple[str, Engine], settings: Settings, tmp_path: Path) -> None:
    db = scratch[1]
    empty(db)
    cfg = settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules")})
    rules = current_rule_set(cfg)
    with Session(db) as s, s.begin():
        add_school(s, "GC-1", from_local(box(-100, -100, 100, 100), LON, LAT), region="420102")
    places = [from_local(Point(100 + 60 * n, 0), LON, LAT) for n in range(6)]  # 0 … 300 m out
    with Session(db) as s:
        pending = [pending_screening(
            screen(s, category="internet_cafe", point=(p.x, p.y), settings=cfg, rule_set=rules,
                   store=False), rules=rules, actor=f"key:{n}", crs="EPSG:4326",
            point=(p.x, p.y), entrance=None, audit={"n": n}) for n, p in enumerate(places)]
    writer = screening_writer(db)

    async def store_all() -> None:
        await asyncio.gather(*(writer.submit(p) for p in pending))
        await writer.close()

    asyncio.run(store_all())
    ids = [p.result.record_id for p in pending]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids)
    assert writer.written == len(pending) and writer.batches < len(pending)
    with db.connect() as conn:
        for p in pending:
            row = conn.execute(text(
                "SELECT s.result, s.actor, s.verdict, ST_X(s.location) AS lon, a.after "
                "FROM screening s JOIN audit_log a ON a.entity = 'screening' "
                "AND a.entity_id = s.id::text WHERE s.id = :id"), {"id": p.answer["id"]}).one()
            assert row.result == p.answer and row.result["id"] == p.result.record_id
            assert row.actor == p.actor and row.verdict == p.result.verdict.value
            assert row.lon == p.result.point[0]  # the float survives the JSON batch exactly
            assert row.after == p.audit
        verdicts = {p.result.verdict.value for p in pending}
        assert {"prohibited", "allowed"} <= verdicts  # inside and outside the 200 m zone
        assert conn.execute(text("SELECT count(*) FROM rule_set WHERE version = :v"),
                            {"v": rules.version}).scalar_one() == 1
