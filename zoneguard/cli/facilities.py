"""`zoneguard facility …`, `zoneguard requirements check`, `zoneguard coverage`."""

from __future__ import annotations

from datetime import date

import typer

from zoneguard.cli.common import console, handle_errors, open_session, print_json, settings

facility_app = typer.Typer(help="Facilities near schools: add, move, retire, list.")
requirements_app = typer.Typer(help="Required facilities: check every school.")


def _today() -> date:
    from zoneguard.settings import local_today

    return local_today(settings().timezone)


@facility_app.command("add")
@handle_errors
def add_command(
    kind: str = typer.Option(..., "--kind", help="Kind: code or 中文名 (护学岗, 监控摄像头…)"),
    name: str = typer.Option(..., "--name"),
    lon: float = typer.Option(..., "--lon"), lat: float = typer.Option(..., "--lat"),
    region: str | None = typer.Option(None, "--region"),
    school_id: int | None = typer.Option(None, "--school-id"),
    code: str | None = typer.Option(None, "--code", help="设施编号 (derived when omitted)"),
    direction: float | None = typer.Option(None, "--direction", help="Camera bearing, degrees"),
    fov: float | None = typer.Option(None, "--fov", help="Camera field of view, degrees"),
) -> None:
    """Register one facility at WGS 84 lon/lat."""
    from zoneguard.services.facilities.registry import add_facility, as_dict

    with open_session() as session:
        facility = add_facility(session, kind=kind, name=name, lon=lon, lat=lat, region=region,
                                school_id=school_id, code=code, direction_deg=direction,
                                fov_deg=fov)
        print_json(as_dict(session, facility))


@facility_app.command("move")
@handle_errors
def move_command(facility_id: int, lon: float = typer.Option(..., "--lon"),
                 lat: float = typer.Option(..., "--lat")) -> None:
    """Move a facility to WGS 84 lon/lat."""
    from zoneguard.services.facilities.registry import move_facility

    with open_session() as session:
        move_facility(session, facility_id, lon=lon, lat=lat)
    console.print(f"设施 {facility_id} 已移至 ({lon}, {lat})")


@facility_app.command("retire")
@handle_errors
def retire_command(facility_id: int) -> None:
    """Retire a facility: it no longer counts towards requirements."""
    from zoneguard.services.facilities.registry import retire_facility

    with open_session() as session:
        retire_facility(session, facility_id, on=_today())
    console.print(f"设施 {facility_id} 已撤除")


@facility_app.command("list")
@handle_errors
def list_command(region: str | None = typer.Option(None, "--region"),
                 kind: str | None = typer.Option(None, "--kind"),
                 retired: bool = typer.Option(False, "--retired", help="Include retired")) -> None:
    """List facilities as JSON."""
    from zoneguard.services.facilities.registry import as_dict, list_facilities

    with open_session() as session:
        print_json([as_dict(session, f) for f in list_facilities(
            session, region=region, kind=kind, include_retired=retired)])


@requirements_app.command("check")
@handle_errors
def check_command(region: str | None = typer.Option(None, "--region"),
                  json_out: bool = typer.Option(False, "--json")) -> None:
    """Check every open school against its required facilities; open and resolve findings."""
    from zoneguard.services.facilities.check import run_check
    from zoneguard.services.rulesets import current_rule_set

    with open_session() as session:
        summary = run_check(session, rules=current_rule_set(settings()), on=_today(),
                            region=region)
    if json_out:
        print_json(summary.as_dict())
        return
    console.print(f"设施检查：{summary.schools} 所学校，{summary.assessed} 项要求，"
                  f"满足 {summary.met}；新发现 {summary.new}，仍缺 {summary.open}，"
                  f"已解除 {summary.resolved}，重新开启 {summary.reopened}")


@handle_errors
def coverage_command(region: str | None = typer.Option(None, "--region"),
                     json_out: bool = typer.Option(False, "--json")) -> None:
    """Coverage of required facilities per district and requirement (vs the target)."""
    from zoneguard.services.facilities.coverage import coverage
    from zoneguard.services.rulesets import current_rule_set

    with open_session() as session:
        result = coverage(session, rules=current_rule_set(settings()), on=_today(),
                          region=region)
    if json_out:
        print_json(result)
        return
    for row in result["districts"]:
        mark = "达标" if row["reached"] else "未达标"
        console.print(f"{row['district']} {row['kind_name']}（{row['requirement_id']}）："
                      f"{row['met']}/{row['schools']} = {row['rate']:.0%}，目标 "
                      f"{row['target']:.0%}，{mark}", highlight=False)
