"""`zoneguard report`, `zoneguard export`, `zoneguard record`: sheets, exports, records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from zoneguard.cli.common import console, handle_errors, open_session, settings
from zoneguard.errors import ValidationError

report_app = typer.Typer(help="Write report workbooks (XLSX).", no_args_is_help=True)
record_app = typer.Typer(help="Write measurement records (HTML or PDF).", no_args_is_help=True)
CATEGORIES = typer.Option(None, "--category", "-c", help="Premises category (repeat)")
OUT = typer.Option(..., "--out", "-o", dir_okay=False, help="File to write")


@report_app.command("school")
@handle_errors
def school_report(code: str = typer.Argument(..., help="School code"), out: Path = OUT) -> None:
    """周边场所距离核查表: the school and every premises within reach, judged, with case state."""
    from zoneguard.reports.school_sheet import school_sheet_bytes

    with open_session() as session:
        out.write_bytes(school_sheet_bytes(session, code=code, settings=settings()))
    console.print(f"wrote {out}", highlight=False)


@report_app.command("joint")
@handle_errors
def joint_report(code: str = typer.Argument(..., help="School code"),
                 year: int | None = typer.Option(None, "--year", min=1900, max=2999,
                                                 help="Year (default: this year)"),
                 out: Path = OUT) -> None:
    """一校一表: the school's annual joint check sheet (食品、交通、文化、治安、安全设施)."""
    from zoneguard.reports.joint_sheet import joint_sheet_bytes
    from zoneguard.settings import local_today

    with open_session() as session:
        out.write_bytes(joint_sheet_bytes(
            session, code=code, year=year or local_today(settings().timezone).year))
    console.print(f"wrote {out}", highlight=False)


@report_app.command("summary")
@handle_errors
def summary_report(region: str | None = typer.Option(None, "--region"), out: Path = OUT,
                   last_scans: int = typer.Option(10, "--last-scans", min=1, max=100)) -> None:
    """District summary: counts, overdue findings, trend across the last scans."""
    from zoneguard.reports.summary import summary_bytes
    from zoneguard.settings import local_today

    with open_session() as session:
        out.write_bytes(summary_bytes(session, region=region, last_scans=last_scans,
                                      on=local_today(settings().timezone)))
    console.print(f"wrote {out}", highlight=False)


@report_app.command("coverage")
@handle_errors
def coverage_report(region: str | None = typer.Option(None, "--region"), out: Path = OUT) -> None:
    """设施覆盖率：各区县各项必备设施的达标学校数、达标率与目标，及各校缺失说明."""
    from zoneguard import regions
    from zoneguard.reports.coverage_sheet import coverage_bytes
    from zoneguard.services.rulesets import current_rule_set
    from zoneguard.settings import local_today

    if region is not None:
        regions.check(region)
    cfg = settings()
    with open_session() as session:
        out.write_bytes(coverage_bytes(session, rules=current_rule_set(cfg),
                                       on=local_today(cfg.timezone), region=region))
    console.print(f"wrote {out}", highlight=False)


def _period_code(month: str | None, quarter: str | None, year: str | None) -> str | None:
    given = [v for v in (month, quarter, year) if v is not None]
    if len(given) > 1:
        raise ValidationError("--month、--quarter、--year 只能选用其中一个")
    return given[0] if given else None


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{option} 应为日期，如 2026-11-01（填写的是「{value}」）") from None


@report_app.command("period")
@handle_errors
def period_report(
    month: str | None = typer.Option(None, "--month", help="A month: 2026-11"),
    quarter: str | None = typer.Option(None, "--quarter", help="A quarter: 2026Q4"),
    year: str | None = typer.Option(None, "--year", help="A year: 2026"),
    start: str | None = typer.Option(None, "--from", help="First day (Beijing date)"),
    end: str | None = typer.Option(None, "--to", help="Last day (Beijing date)"),
    region: str | None = typer.Option(None, "--region", help="Region code prefix"),
    category: list[str] | None = CATEGORIES,
    by: str = typer.Option("district", "--by",
                           help="district | street | unit | school | category (JSON groups)"),
    out: Path | None = typer.Option(None, "--out", "-o", dir_okay=False,
                                    help="FILE.xlsx or FILE.pdf"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Period statistics (月报/季报/年报): new, assigned, rectified, closed, rates, 环比."""
    from zoneguard.reports.period_report import build_report, report_json
    from zoneguard.reports.periods import resolve_period

    period = resolve_period(_period_code(month, quarter, year), _day(start, "--from"),
                            _day(end, "--to"))
    suffix = None if out is None else out.suffix.lower()
    if suffix not in (None, ".xlsx", ".pdf"):
        raise ValidationError("--out 的文件名应以 .xlsx 或 .pdf 结尾")
    if out is None and not as_json:
        raise ValidationError("请用 --out 指定输出文件（.xlsx 或 .pdf），或加 --json 输出数据")
    with open_session() as session:
        report = build_report(session, period, region=region, categories=category or None,
                              timezone=settings().timezone)
    data = report_json(report, by)
    if out is not None:
        if suffix == ".pdf":
            from zoneguard.reports.period_html import period_pdf
            out.write_bytes(period_pdf(report))
        else:
            from zoneguard.reports.period_xlsx import period_bytes
            out.write_bytes(period_bytes(report))
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        console.print(f"wrote {out} ({period.label}，{report.scope_text})", highlight=False)


@handle_errors
def export_command(
    what: str = typer.Argument(..., help="findings | schools | premises"),
    fmt: str = typer.Option(..., "--format", "-f", help="csv | xlsx | geojson | gpkg"),
    out: Path = OUT, region: str | None = typer.Option(None, "--region"),
    category: list[str] | None = CATEGORIES,
    labels: str = typer.Option("en", "--labels",
                               help="CSV/GeoJSON/GPKG keys and values: en (codes) | zh (Chinese);"
                               " XLSX is always Chinese"),
) -> None:
    """Export findings or a registry as CSV, XLSX, GeoJSON or GeoPackage (EPSG:4326)."""
    from zoneguard.reports.exports import check_request, write_export

    check_request(what, fmt, labels)
    with open_session() as session:
        n = write_export(session, what, fmt, out, labels=labels, region=region,
                         categories=category or None)
    console.print(f"wrote {out} ({n} rows)", highlight=False)


def _write_record(html: str, out: Path) -> None:
    from zoneguard.reports.record import html_to_pdf

    if out.suffix.lower() == ".pdf":
        out.write_bytes(html_to_pdf(html))
    elif out.suffix.lower() in (".html", ".htm"):
        out.write_text(html, encoding="utf-8")
    else:
        raise ValidationError("--out 的文件名应以 .html 或 .pdf 结尾")
    console.print(f"wrote {out}", highlight=False)


@record_app.command("screening")
@handle_errors
def screening_record(screening_id: int = typer.Argument(...), out: Path = OUT) -> None:
    """Measurement record of a stored screening."""
    from zoneguard.reports.record import screening_record_html

    with open_session() as session:
        html = screening_record_html(session, screening_id=screening_id)
    _write_record(html, out)


@record_app.command("finding")
@handle_errors
def finding_record(finding_id: int = typer.Argument(...), out: Path = OUT) -> None:
    """Measurement record of a finding."""
    from zoneguard.reports.record import finding_record_html
    from zoneguard.services.rulesets import current_rule_set

    with open_session() as session:
        html = finding_record_html(session, finding_id=finding_id,
                                   rule_set=current_rule_set(settings()))
    _write_record(html, out)
