"""`zoneguard inspect draw|result|list|publicity`: 双随机 inspections."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings

app = typer.Typer(help="双随机 inspections of premises in safety zones.")


@app.command("draw")
@handle_errors
def draw_command(
    seed: int = typer.Option(..., "--seed"),
    categories: str = typer.Option(..., "--categories", help="Comma-separated categories"),
    roster: Path = typer.Option(..., "--roster", help="CSV/JSON: name, unit, district"),
    per_stratum: int | None = typer.Option(None, "--per-stratum"),
    fraction: float | None = typer.Option(None, "--fraction"),
    region: str | None = typer.Option(None, "--region"),
    due_days: int = typer.Option(30, "--due-days"),
    weight: str = typer.Option("none", "--weight",
                               help="none, or risk: schools' risk grades weight the draw "
                                    "(data/risk.yaml draw_weight; recorded with the draw)"),
) -> None:
    """Draw premises at random (stratified by category and district) with two inspectors."""
    from zoneguard.evaluation import Tolerances
    from zoneguard.services import inspections as ins
    from zoneguard.services.rulesets import current_rule_set
    from zoneguard.settings import local_today

    if weight not in ("none", "risk"):
        raise typer.BadParameter("可选 none 或 risk", param_hint="--weight")
    cfg = settings()
    people = ins.read_roster(roster)
    today = local_today(cfg.timezone)
    with open_session() as session:
        weights = None
        if weight == "risk":
            from zoneguard.services.cases.risk import risk_weights

            weights = risk_weights(session, today=today, region=region)
        record = ins.draw(session, seed=seed, categories=categories.split(","), roster=people,
                          rules=current_rule_set(cfg),
                          tolerances=Tolerances(cfg.review_margin_m, cfg.point_school_radius_m),
                          on=today, now=datetime.now().astimezone(),
                          per_stratum=per_stratum, fraction=fraction, region=region,
                          due_days=due_days, weights=weights)
        print_json({"draw_id": record.id, "seed": seed, "population": record.population_size,
                    "population_hash": record.population_hash,
                    "inspections": ins.publicity(session, record.id)})


@app.command("result")
@handle_errors
def result_command(inspection_id: int,
                   items: list[str] = typer.Option(..., "--item", help="CODE=合格|不合格")) -> None:
    """Record the results of one inspection; 不合格 items open findings."""
    from zoneguard.services import inspections as ins
    from zoneguard.settings import local_today

    results = dict(item.partition("=")[::2] for item in items)
    with open_session() as session:
        ids = ins.record_results(session, inspection_id, results, actor="cli",
                                 on=local_today(settings().timezone))
    console.print(f"检查 {inspection_id} 结果已登记；新问题：{ids or '无'}")


@app.command("list")
@handle_errors
def list_command(draw_id: int,
                 out: Path | None = typer.Option(None, "--out", "-o", dir_okay=False,
                                                 help="Write the 公示 workbook (XLSX)")) -> None:
    """The 公示 list of a draw, and whether re-drawing from its seed gives it again."""
    from zoneguard.services import inspections as ins

    with open_session() as session:
        if out is not None:
            from zoneguard.reports.publicity import publicity_bytes

            out.write_bytes(publicity_bytes(session, draw_id))
            console.print(f"wrote {out}", highlight=False)
            return
        same = ins.redraw(session, draw_id) == ins.drawn(session, draw_id)
        print_json({"draw_id": draw_id, "reproduced": same,
                    "inspections": ins.publicity(session, draw_id)})
