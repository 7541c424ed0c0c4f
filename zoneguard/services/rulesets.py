"""The rule set in force: loaded from YAML (cached by file stamps), stored with its hash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from zoneguard.errors import RuleError
from zoneguard.models import RuleRecord, RuleSetRecord
from zoneguard.rules import RuleSet, load_rule_set
from zoneguard.settings import Settings

_cache: dict[Path, tuple[tuple[tuple[str, float, int], ...], RuleSet]] = {}


def _stamp(directory: Path) -> tuple[tuple[str, float, int], ...]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return tuple((f.name, f.stat().st_mtime, f.stat().st_size) for f in files)


def current_rule_set(settings: Settings) -> RuleSet:
    """The rules of the configured directory, re-read only when a file changed."""
    directory = settings.effective_rules_dir
    if not directory.is_dir():
        raise RuleError(f"rules directory {directory} does not exist (ZONEGUARD_RULES_DIR)")
    stamp = _stamp(directory)
    cached = _cache.get(directory)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rule_set = load_rule_set(directory)
    _cache[directory] = (stamp, rule_set)
    return rule_set


def store_rule_set(session: Session, rule_set: RuleSet) -> int:
    """Record the rule set under its content hash (once) and return its row id."""
    existing = session.scalar(select(RuleSetRecord.id).where(
        RuleSetRecord.version == rule_set.version))
    if existing is not None:
        return existing
    source = {f.jurisdiction: {"name": f.name, "version": f.version, "file": Path(f.source).name}
              for f in rule_set.files}
    stmt = insert(RuleSetRecord).values(
        version=rule_set.version, jurisdictions=sorted(source), source=source,
    ).on_conflict_do_nothing(index_elements=["version"]).returning(RuleSetRecord.id)
    new_id = session.scalar(stmt)
    if new_id is None:  # stored concurrently by another process
        found = session.scalar(select(RuleSetRecord.id).where(
            RuleSetRecord.version == rule_set.version))
        assert found is not None
        return found
    session.add_all(
        RuleRecord(
            rule_set_id=new_id, rule_id=rule.id, jurisdiction=rule.jurisdiction,
            category=rule.category, protects=[lv.value for lv in rule.protects],
            distance_m=rule.distance_m, metric=rule.metric.value, existing=rule.existing.value,
            min_enrolment=rule.min_enrolment, basis=rule.basis,
            effective_from=rule.effective_from, effective_to=rule.effective_to,
            definition=rule.model_dump(mode="json"),
        )
        for rule in rule_set.rules
    )
    session.flush()
    return new_id
