"""The rule set in force: loaded from YAML (cached by file stamps), stored with its hash."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from zoneguard.errors import RuleError
from zoneguard.rules import RuleSet, load_rule_set
from zoneguard.settings import Settings

_cache: dict[Path, tuple[tuple[tuple[str, float, int], ...], RuleSet]] = {}
_listing: dict[Path, tuple[int, list[tuple[str, str]]]] = {}  # mtime; names and paths


def _stamp(directory: Path) -> tuple[tuple[str, float, int], ...] | None:
    """Name, mtime and size of each rule file (None: no such directory).

    This says whether to read the rules again, and a screening asks for the rules each time:
    so it costs a stat of the directory and one of each file. The directory is listed again
    only when its own mtime moved (a file was added, removed or renamed into place).
    """
    try:
        folder = os.stat(directory)
    except OSError:
        return None
    if not stat.S_ISDIR(folder.st_mode):
        return None
    listed = _listing.get(directory)
    if listed is None or listed[0] != folder.st_mtime_ns:
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        listed = _listing[directory] = (folder.st_mtime_ns, [(f.name, str(f)) for f in files])
    try:
        stats = [(name, os.stat(path)) for name, path in listed[1]]
    except FileNotFoundError:  # gone between the listing and its stat: list again
        _listing.pop(directory, None)
        return _stamp(directory)
    return tuple((name, st.st_mtime, st.st_size) for name, st in stats)


def current_rule_set(settings: Settings) -> RuleSet:
    """The rules of the configured directory, re-read only when a file changed."""
    directory = settings.effective_rules_dir
    stamp = _stamp(directory)
    if stamp is None:
        raise RuleError(f"规则文件目录 {directory} 不存在（ZONEGUARD_RULES_DIR）")
    cached = _cache.get(directory)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rule_set = load_rule_set(directory)
    _cache[directory] = (stamp, rule_set)
    return rule_set


def rule_set_row(rule_set: RuleSet) -> dict[str, Any]:
    """Values of the `rule_set` row describing a rule set (its files, by jurisdiction)."""
    source: dict[str, dict[str, str]] = {}
    for f in sorted(rule_set.files, key=lambda f: bool(f.rules)):  # ban files win the entry
        entry = source.setdefault(f.jurisdiction, {})
        if f.requirements and not f.rules:
            entry["requirements_file"] = Path(f.source).name
        entry.update({"name": f.name, "version": f.version, "file": Path(f.source).name}
                     if f.rules or "file" not in entry else {})
    return {"version": rule_set.version, "jurisdictions": sorted(source), "source": source}


# One round trip: insert the rule set if this version is new (RETURNING gives its id then).
INSERT_RULE_SET = """
INSERT INTO rule_set (version, jurisdictions, source)
VALUES (:version, :jurisdictions, CAST(:source AS jsonb))
ON CONFLICT (version) DO NOTHING RETURNING id
"""


def store_rules(session: Session, rule_set: RuleSet, rule_set_id: int) -> None:
    """Write the rule rows of a newly stored rule set."""
    from zoneguard.models import RuleRecord  # the ORM loads only when a new set is stored

    session.add_all(
        RuleRecord(
            rule_set_id=rule_set_id, rule_id=rule.id, jurisdiction=rule.jurisdiction,
            category=rule.category, protects=[lv.value for lv in rule.protects],
            distance_m=rule.distance_m, metric=rule.metric.value, existing=rule.existing.value,
            min_enrolment=rule.min_enrolment, basis=rule.basis,
            effective_from=rule.effective_from, effective_to=rule.effective_to,
            definition=rule.model_dump(mode="json"),
        )
        for rule in rule_set.rules
    )
    session.flush()


def store_rule_set(session: Session, rule_set: RuleSet) -> int:
    """Record the rule set under its content hash (once) and return its row id."""
    row = rule_set_row(rule_set)
    new_id = session.scalar(text(INSERT_RULE_SET),
                            {**row, "source": json.dumps(row["source"], ensure_ascii=False)})
    if new_id is not None:
        store_rules(session, rule_set, int(new_id))
        return int(new_id)
    from zoneguard.models import RuleSetRecord

    found = session.scalar(select(RuleSetRecord.id).where(
        RuleSetRecord.version == rule_set.version))
    assert found is not None
    return int(found)
