"""`zoneguard risk`: each school's risk grade (分级管控) from its open findings."""

from __future__ import annotations

from dataclasses import asdict

import typer

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings

GRADE_STYLE = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow", "blue": "blue"}


@handle_errors
def risk_command(
    region: str | None = typer.Option(None, "--region", help="行政区划代码前缀"),
    school: str | None = typer.Option(None, "--school", help="学校标识码"),
    grade: str | None = typer.Option(None, "--grade", help="red / orange / yellow / blue"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """各学校风险等级（红/橙/黄/蓝）、分值、建议排查频次及依据（本地默认值，非法定标准）."""
    from rich.table import Table

    from zoneguard import regions
    from zoneguard.risk_formula import risk_formula
    from zoneguard.services.cases.risk import school_risks
    from zoneguard.settings import local_today

    if region is not None:
        regions.check(region)
    formula = risk_formula()
    if grade is not None and grade not in {g.code for g in formula.grades}:
        raise typer.BadParameter("可选 red、orange、yellow、blue", param_hint="--grade")
    with open_session() as session:
        risks = school_risks(session, today=local_today(settings().timezone), region=region,
                             school_code=school, formula=formula)
    chosen = sorted((r for r in risks if grade is None or r.grade == grade),
                    key=lambda r: (-r.score, r.code))
    if json_out:
        print_json({"notice": formula.notice, "schools": [asdict(r) for r in chosen]})
        return
    table = Table(title="学校风险分级（分级管控）", title_justify="left")
    for header in ("学校", "标识码", "区划", "等级", "分值", "建议排查", "依据"):
        table.add_column(header, overflow="fold")
    for r in chosen:
        table.add_row(r.name, r.code, regions.labelled(r.region) if r.region else "—",
                      f"[{GRADE_STYLE.get(r.grade, '')}]{r.grade_name}[/]", str(r.score),
                      f"每{r.frequency}", r.basis)
    console.print(table)
    console.print(f"共 {len(chosen)} 所。{formula.notice}", highlight=False)
