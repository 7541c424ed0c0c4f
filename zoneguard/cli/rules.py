"""`zoneguard rules`: the rules in force, with their provenance (for rule authors), and lint."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from zoneguard.cli.common import console, err_console, handle_errors, print_json, settings
from zoneguard.labels import levels_label, limit
from zoneguard.settings import local_today

if TYPE_CHECKING:
    from zoneguard.rules import RuleSet

app = typer.Typer(help="Rule sets: list the rules with their provenance, lint them.",
                  no_args_is_help=True)


def _load(rules_dir: Path | None) -> RuleSet:
    from zoneguard.rules import load_rule_set

    return load_rule_set(rules_dir or settings().effective_rules_dir)


@app.command("list")
@handle_errors
def list_command(
    rules_dir: Path | None = typer.Option(None, "--dir", help="Rule files (default: configured)"),
    region: str | None = typer.Option(None, "--region", help="Only the rules deciding here"),
    on: str | None = typer.Option(None, "--on", help="Day (YYYY-MM-DD), default today"),
    json_output: bool = typer.Option(False, "--json", help="Every field, provenance included"),
) -> None:
    """List rules with their citations and, for rule authors, confidence and notes."""
    rule_set = _load(rules_dir)
    try:
        day = date.fromisoformat(on) if on else local_today(settings().timezone)
    except ValueError:
        raise typer.BadParameter(f"--on {on!r} is not a date (YYYY-MM-DD)") from None
    rules = rule_set.rules_in_force(region, day) if region else list(rule_set.rules)
    if json_output:
        print_json([rule.model_dump(mode="json") for rule in rules])
        return
    table = Table("id", "area", "category", "protects", "distance", "kind", "metric",
                  "in force", "citations (confidence)", "notes")
    for rule in rules:
        distance = "—" if rule.distance_m is None else limit(rule.distance_m)
        if rule.distance_m is not None and not rule.inclusive:
            distance += " (excl.)"
        table.add_row(
            rule.id, rule.area or rule.jurisdiction, rule.category, levels_label(rule.protects),
            distance, "" if rule.distance_kind is None else rule.distance_kind.value,
            rule.metric.value,
            f"{rule.effective_from} – {rule.effective_to or ''}",
            "\n".join(f"[{c.confidence.value}] {c.display()}" for c in rule.citations),
            rule.notes or "")
    console.print(table)
    console.print(f"rule set {rule_set.version}: {len(rules)} rules")


@app.command("lint")
@handle_errors
def lint_command(
    rules_dir: Path | None = typer.Option(None, "--dir", help="Rule files (default: configured)"),
) -> None:
    """Flag rules that would not stand on appeal; exit 1 when any is found."""
    from zoneguard.rules_lint import lint

    rule_set = _load(rules_dir)
    problems = lint(rule_set)
    for p in problems:
        err_console.print(f"{Path(p.source).name}: {p.rule_id}: {p.message}", highlight=False,
                          soft_wrap=True)  # one line per problem, whatever the terminal
    if problems:
        err_console.print(f"{len(rule_set.rules)} 条规则中有 {len(problems)} 处问题")
        raise typer.Exit(1)
    console.print(f"{len(rule_set.rules)} 条规则，没有问题（规则集 {rule_set.version}）")
