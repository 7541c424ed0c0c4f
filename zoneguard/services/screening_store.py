"""Storing screenings: one statement for a batch of records and their audit entries.

A screening is answered only once its record is stored. The API hands the records of
concurrent requests to a group-commit writer (`screening_writer`), which stores each batch
in one statement and one commit; the command line stores its one record in its session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from zoneguard.db.group_commit import GroupCommit
from zoneguard.domain import Verdict
from zoneguard.rules import RuleSet
from zoneguard.services.rulesets import store_rule_set

XY = tuple[float, float]


class ScreeningResult(Protocol):
    """What is stored of a screening's answer (`zoneguard.services.screening.ScreeningResult`)."""

    verdict: Verdict
    category: str
    point: XY
    region: str | None
    on: date
    record_id: int | None

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data."""
        ...


@dataclass(frozen=True)
class PendingScreening:
    """A screening answered but not yet stored: its record and, optionally, its audit entry."""

    result: ScreeningResult
    rules: RuleSet
    actor: str
    request: dict[str, Any]
    answer: dict[str, Any]  # the result as answered and stored; its id is set once stored
    audit: dict[str, Any] | None = None


def pending_screening(result: ScreeningResult, *, rules: RuleSet, actor: str, crs: str,
                      point: XY, entrance: XY | None,
                      audit: dict[str, Any] | None = None) -> PendingScreening:
    """The record of a screening as asked (`point`, `entrance` in `crs`), ready to store."""
    request = {"category": result.category, "location": {"x": point[0], "y": point[1],
               "crs": crs}, "entrance": None if entrance is None else
               {"x": entrance[0], "y": entrance[1], "crs": crs},
               "region": result.region, "on": result.on.isoformat()}
    return PendingScreening(result, rules, actor, request, result.as_dict(), audit)


# One statement for a whole batch (group commit): ids are drawn first, then the records (whose
# stored result carries its own id) and their audit entries are inserted from the same rows.
# In autocommit the statement is its own transaction: all of the batch is stored, or none.
_INSERT_SCREENINGS = text("""
WITH b AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('screening', 'id')) AS id, r.*
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS r(i int, category text, region text, lon float8, lat float8, request jsonb,
              verdict text, result jsonb, version text, actor text, audit jsonb)
),
stored AS (
    INSERT INTO screening (id, category, region, location, request, verdict, result,
                           rule_set_version, actor)
    SELECT id, category, region, ST_SetSRID(ST_MakePoint(lon, lat), 4326), request, verdict,
           jsonb_set(result, '{id}', to_jsonb(id)), version, actor
    FROM b
),
audited AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, after)
    SELECT actor, 'screen', 'screening', id::text, audit FROM b WHERE audit IS NOT NULL
)
SELECT i, id FROM b
""")


def store_screenings(db: Session | Connection, batch: Sequence[PendingScreening]) -> None:
    """Insert a batch of screenings (and their audit entries) in one statement; set their ids.

    The rule sets they name must be stored already (`store_rule_set`).
    """
    rows = [{"i": n, "category": p.result.category, "region": p.result.region,
             "lon": p.result.point[0], "lat": p.result.point[1], "request": p.request,
             "verdict": p.result.verdict.value, "result": p.answer,
             "version": p.rules.version, "actor": p.actor, "audit": p.audit}
            for n, p in enumerate(batch)]
    payload = orjson.dumps(rows, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    for n, record_id in db.execute(_INSERT_SCREENINGS, {"rows": payload}):
        batch[n].result.record_id = batch[n].answer["id"] = int(record_id)


class _StoredRuleSets:
    """Stores each rule set a batch names once per writer, in a transaction of its own."""

    def __init__(self) -> None:
        self.versions: set[str] = set()

    def __call__(self, engine: Engine, batch: Sequence[PendingScreening]) -> None:
        for rules in {p.rules.version: p.rules for p in batch}.values():
            if rules.version in self.versions:
                continue
            with Session(engine) as session, session.begin():
                store_rule_set(session, rules)
            self.versions.add(rules.version)


def screening_writer(engine: Engine, *, delay_s: float = 0.0) -> GroupCommit[PendingScreening]:
    """The group-commit writer of screenings for one process (see `zoneguard.db.group_commit`)."""
    return GroupCommit(engine, store_screenings, delay_s=delay_s, prepare=_StoredRuleSets())
