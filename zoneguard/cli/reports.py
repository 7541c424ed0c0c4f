"""`zoneguard report`, `zoneguard export`, `zoneguard record`: sheets, exports, records."""

from __future__ import annotations

from pathlib import Path

import typer

from zoneguard.cli.common import console, handle_errors, open_session, settings
from zoneguard.errors import ValidationError
from zoneguard.reports.exports import FORMATS, WHAT, write_export
from zoneguard.reports.record import finding_record_html, html_to_pdf, screening_record_html
from zoneguard.reports.school_sheet import school_sheet_bytes
from zoneguard.reports.summary import summary_bytes
from zoneguard.services.rulesets import current_rule_set

report_app = typer.Typer(help="Write report workbooks (XLSX).", no_args_is_help=True)
record_app = typer.Typer(help="Write measurement records (HTML or PDF).", no_args_is_help=True)
CATEGORIES = typer.Option(None, "--category", "-c", help="Premises category (repeat)")
OUT = typer.Option(..., "--out", "-o", dir_okay=False, help="File to write")


@report_app.command("school")
@handle_errors
def school_report(code: str = typer.Argument(..., help="School code"), out: Path = OUT) -> None:
    """一校一表: the school and every premises within reach, judged, with case state."""
    with open_session() as session:
        out.write_bytes(school_sheet_bytes(session, code=code, settings=settings()))
    console.print(f"wrote {out}", highlight=False)


@report_app.command("summary")
@handle_errors
def summary_report(region: str | None = typer.Option(None, "--region"), out: Path = OUT,
                   last_scans: int = typer.Option(10, "--last-scans", min=1, max=100)) -> None:
    """District summary: counts, overdue findings, trend across the last scans."""
    with open_session() as session:
        out.write_bytes(summary_bytes(session, region=region, last_scans=last_scans))
    console.print(f"wrote {out}", highlight=False)


@handle_errors
def export_command(
    what: str = typer.Argument(..., help="findings | schools | premises"),
    fmt: str = typer.Option(..., "--format", "-f", help="csv | xlsx | geojson | gpkg"),
    out: Path = OUT, region: str | None = typer.Option(None, "--region"),
    category: list[str] | None = CATEGORIES,
) -> None:
    """Export findings or a registry as CSV, XLSX, GeoJSON or GeoPackage (EPSG:4326)."""
    if what not in WHAT:
        raise ValidationError(f"export what? one of {', '.join(WHAT)}")
    if fmt not in FORMATS:
        raise ValidationError(f"--format must be one of {', '.join(FORMATS)}")
    with open_session() as session:
        n = write_export(session, what, fmt, out, region=region, categories=category or None)
    console.print(f"wrote {out} ({n} rows)", highlight=False)


def _write_record(html: str, out: Path) -> None:
    if out.suffix.lower() == ".pdf":
        out.write_bytes(html_to_pdf(html))
    elif out.suffix.lower() in (".html", ".htm"):
        out.write_text(html, encoding="utf-8")
    else:
        raise ValidationError("--out must end in .html or .pdf")
    console.print(f"wrote {out}", highlight=False)


@record_app.command("screening")
@handle_errors
def screening_record(screening_id: int = typer.Argument(...), out: Path = OUT) -> None:
    """Measurement record of a stored screening."""
    with open_session() as session:
        html = screening_record_html(session, screening_id=screening_id)
    _write_record(html, out)


@record_app.command("finding")
@handle_errors
def finding_record(finding_id: int = typer.Argument(...), out: Path = OUT) -> None:
    """Measurement record of a finding."""
    with open_session() as session:
        html = finding_record_html(session, finding_id=finding_id,
                                   rule_set=current_rule_set(settings()))
    _write_record(html, out)
