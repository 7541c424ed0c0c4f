"""The rule set in force follows its files (an edit, a removed file, a missing directory) and
is dated in Beijing."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zoneguard.errors import RuleError
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import PROJECT_ROOT, Settings, local_today


def _copy(tmp_path: Path) -> tuple[Settings, Path]:
    rules = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "data" / "rules", rules)
    return Settings(rules_dir=rules), rules


def test_unchanged_files_give_the_same_rule_set_and_an_edit_a_new_one(tmp_path: Path) -> None:
    settings, rules = _copy(tmp_path)
    first = current_rule_set(settings)
    assert current_rule_set(settings) is first
    edited = sorted(rules.glob("*.yaml"))[0]
    before = os.stat(rules).st_mtime_ns
    with edited.open("a", encoding="utf-8") as f:  # in place: the directory does not change
        f.write("\n# 复核\n")
    assert os.stat(rules).st_mtime_ns == before
    assert current_rule_set(settings) is not first


def test_a_removed_file_is_noticed_through_the_directory(tmp_path: Path) -> None:
    settings, rules = _copy(tmp_path)
    first = current_rule_set(settings)
    requirements = sorted(rules.glob("*-requirements.yaml"))
    assert requirements, "the bundled rules have requirement files"
    requirements[0].unlink()
    second = current_rule_set(settings)
    assert len(second.files) == len(first.files) - 1


def test_a_missing_directory_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="规则文件目录 .* 不存在"):
        current_rule_set(Settings(rules_dir=tmp_path / "nowhere"))
    (tmp_path / "file.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(RuleError, match="规则文件目录 .* 不存在"):
        current_rule_set(Settings(rules_dir=tmp_path / "file.yaml"))


def test_rules_are_dated_in_beijing_whatever_the_host_zone(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    # UTC−12 and UTC+14 are 26 hours apart: their own dates always differ, so a host-dated
    # day is wrong in at least one of them; China keeps UTC+8 all year.
    for host in ("Etc/GMT+12", "Etc/GMT-14"):
        monkeypatch.setenv("TZ", host)
        time.tzset()
        before = (datetime.now(UTC) + timedelta(hours=8)).date()
        today = local_today("Asia/Shanghai")
        after = (datetime.now(UTC) + timedelta(hours=8)).date()
        assert today in (before, after)
    monkeypatch.undo()
    time.tzset()
