"""The audit viewer: filters by actor, entity, action and Beijing-time ranges, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.errors import ValidationError
from zoneguard.services.access.audit_view import parse_moment, read_audit

TZ = "Asia/Shanghai"
ROWS = [  # (UTC time, actor, action, entity, entity id)
    ("2024-05-01 15:59:00+00", "user:审计甲(auditx)", "finding.assign", "finding", "7"),
    ("2024-05-01 16:30:00+00", "user:审计甲(auditx)", "finding.accept", "finding", "8"),
    ("2024-05-02 03:00:00+00", "key:abc123def456:审计键", "evidence.upload", "finding", "7"),
    ("2024-05-03 01:00:00+00", "user:审计乙(audity)", "finding.assign", "finding", "7"),
]


@pytest.fixture
def logged(session: Session) -> None:
    for at, actor, action, entity, entity_id in ROWS:
        session.execute(text("INSERT INTO audit_log (at, actor, action, entity, entity_id) "
                             "VALUES (CAST(:at AS timestamptz), :actor, :action, :entity, :id)"),
                        {"at": at, "actor": actor, "action": action, "entity": entity,
                         "id": entity_id})


def test_filters_and_beijing_days(session: Session, logged: None) -> None:  # noqa: ARG001
    def read(**kw: object) -> tuple[list[str], int]:
        kw.setdefault("actor", "审计")
        rows, total = read_audit(session, timezone=TZ, **kw)  # type: ignore[arg-type]
        return [f"{r['action']}@{r['entity_id']}" for r in rows], total

    assert read() == (["finding.assign@7", "evidence.upload@7", "finding.accept@8",
                       "finding.assign@7"], 4)
    assert read(actor="auditx")[0] == ["finding.accept@8", "finding.assign@7"]
    assert read(actor="key:abc123")[0] == ["evidence.upload@7"]
    assert read(entity="finding", entity_id="8")[0] == ["finding.accept@8"]
    assert read(action="finding")[1] == 3 and read(action="finding.accept")[1] == 1
    assert read(action="find")[1] == 0  # a family is a whole dotted prefix
    # 2024-05-02 in Beijing runs from 2024-05-01 16:00 UTC to 2024-05-02 16:00 UTC.
    day = {"since": parse_moment("2024-05-02", TZ), "until": parse_moment("2024-05-02", TZ,
                                                                          end=True)}
    assert read(**day)[0] == ["evidence.upload@7", "finding.accept@8"]
    assert read(until=parse_moment("2024-05-01", TZ, end=True))[0] == ["finding.assign@7"]
    assert read(since=parse_moment("2024-05-02T11:00", TZ))[0] == [
        "finding.assign@7", "evidence.upload@7"]
    page, total = read(limit=1, offset=1)
    assert page == ["evidence.upload@7"] and total == 4
    rows, _ = read_audit(session, timezone=TZ, actor="auditx", entity_id="8", entity="finding")
    at = rows[0]["at"]
    assert at.utcoffset() == timedelta(hours=8) and (at.day, at.hour, at.minute) == (2, 0, 30)


def test_bad_filters_are_refused_plainly(session: Session) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        parse_moment("5月2日", TZ)
    with pytest.raises(ValidationError, match="须同时指定对象类型"):
        read_audit(session, timezone=TZ, entity_id="7")
    with pytest.raises(ValidationError, match="起始时间须早于结束时间"):
        read_audit(session, timezone=TZ, since=datetime(2024, 5, 2, tzinfo=UTC),
                   until=datetime(2024, 5, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="每页条数"):
        read_audit(session, timezone=TZ, limit=0)
    assert parse_moment("2024-05-02T08:00+00:00", TZ) == datetime(2024, 5, 2, 8,
                                                                  tzinfo=UTC)
