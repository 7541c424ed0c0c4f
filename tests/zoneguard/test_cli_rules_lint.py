"""`zoneguard rules lint`: what a rule author must still fix, in Chinese, with a failing exit."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.factories import RULES_YAML, write_rules
from zoneguard.cli.main import app


def test_the_bundled_rules_have_nothing_to_fix() -> None:
    done = CliRunner().invoke(app, ["rules", "lint"])
    assert done.exit_code == 0, done.output
    assert "条规则，没有问题" in done.output


def test_a_statutory_distance_without_its_article_is_flagged(tmp_path: Path) -> None:
    # The test rules cite a title only: none would stand on appeal as a statutory distance.
    write_rules(tmp_path, RULES_YAML)
    done = CliRunner().invoke(app, ["rules", "lint", "--dir", str(tmp_path)])
    assert done.exit_code == 1
    assert "cn.yaml: t.internet_cafe: 法定距离没有写明条款及条文的依据" in done.output
    assert "5 条规则中有 5 处问题" in done.output
    quoted = RULES_YAML.replace("authority: 测试机关, title: test basis 50,",
                                "authority: '43', title: test basis 50,")
    write_rules(tmp_path, quoted)
    again = CliRunner().invoke(app, ["rules", "lint", "--dir", str(tmp_path)])
    assert "t.lottery: citations[0].authority 写的是代码，应写发布机关名称" in again.output
