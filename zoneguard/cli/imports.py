"""`zoneguard import schools|gates|premises FILE`: load registries from bureaus' files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from zoneguard.cli.common import console, err_console, open_session, print_json, settings
from zoneguard.errors import ImportProblem, ZoneGuardError

if TYPE_CHECKING:  # pandas, pyarrow, geopandas: loaded only when a file is imported
    from zoneguard.imports import ImportKind, ParsedImport
    from zoneguard.services.ingest.files import ImportOutcome

app = typer.Typer(help="Import schools, gates or premises from CSV/XLSX/GeoJSON/SHP/GPKG/OSM.")

CRS_HELP = "CRS of the coordinates: EPSG:n, wgs84, cgcs2000, gcj02, bd09 (required for CSV/XLSX)"


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, fieldname = pair.partition("=")
        if not sep or not column or not fieldname:
            raise typer.BadParameter(f"列对应“{pair}”的写法不对：应写成“列名=字段”，如“经度=lon”")
        mapping[column] = fieldname
    return mapping


_KIND_LABELS = {"premises": "场所", "schools": "学校", "gates": "校门", "facilities": "设施"}


def _problems_table(parsed: ParsedImport, limit: int = 20) -> Table:
    table = Table("行", "列", "值", "问题", title="导入报告")
    for p in parsed.problems[:limit]:
        table.add_row(str(p.row), p.column or "", (p.value or "")[:40], p.problem)
    if len(parsed.problems) > limit:
        table.caption = f"另有 {len(parsed.problems) - limit} 个问题，见报告文件"
    return table


def _run(kind: ImportKind, file: Path, crs: str | None, region: str | None,
         maps: list[str], category: str | None, dry_run: bool, skip_invalid: bool,
         close_missing: bool, sheet: str | None, layer: str | None, json_out: bool) -> None:
    from zoneguard.imports import ParsedImport, write_report
    from zoneguard.services.ingest.files import import_file

    try:
        with open_session() as session:
            outcome = import_file(session, file, kind=kind, crs=crs, column_map=_mapping(maps),
                                  category=category, region=region, dry_run=dry_run,
                                  skip_invalid=skip_invalid, close_missing=close_missing,
                                  sheet=sheet, layer=layer, settings=settings())
    except ImportProblem as exc:
        parsed = exc.extra.get("parsed")
        err_console.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        if isinstance(parsed, ParsedImport):
            err_console.print(_problems_table(parsed))
            report = write_report(parsed, file.parent)
            err_console.print(f"导入报告已写入 {report}")
        raise typer.Exit(1) from None
    except ZoneGuardError as exc:
        err_console.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        raise typer.Exit(1) from None
    _finish(outcome, file, json_out)


def _finish(outcome: ImportOutcome, file: Path, json_out: bool) -> None:
    from zoneguard.imports import write_rejected, write_report

    parsed = outcome.parsed
    assert parsed is not None
    if parsed.problems or outcome.rejected:
        write_report(parsed, file.parent)
    if outcome.rejected:
        write_rejected(parsed, file.parent)
    if json_out:
        print_json(outcome.as_dict())
        return
    for warning in parsed.warnings:
        console.print(f"[yellow]提示：[/yellow]{warning}", highlight=False)
    verb = "试导入（未写入）" if outcome.dry_run else "已导入"
    console.print(
        f"{verb}{_KIND_LABELS.get(outcome.kind, outcome.kind)} {parsed.file_name}"
        f"（{parsed.source_crs}）：新增 {outcome.inserted}，更新 {outcome.updated}，"
        f"未变 {outcome.unchanged}，拒收 {outcome.rejected}"
        + (f"，注销 {outcome.closed}" if outcome.closed else "")
        + (f" — 导入批次 {outcome.import_id}" if outcome.import_id else ""), highlight=False)
    if outcome.missing and not outcome.closed and outcome.kind == "facilities":
        console.print(f"{outcome.missing} 个已登记的设施（同类型、同区划）不在此文件中；"
                      "加 --close-missing 可将其撤除", highlight=False)
    elif outcome.missing and not outcome.closed:
        console.print(f"已登记的 {outcome.missing} 个场所不在本文件中；如要把它们标为停业，"
                      "请加 --close-missing", highlight=False)
    if outcome.rejected:
        console.print(_problems_table(parsed))


def _common(kind: ImportKind):  # type: ignore[no-untyped-def]
    def command(
        file: Path = typer.Argument(..., exists=False, help="File to import"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        region: str | None = typer.Option(None, "--region", help="GB/T 2260 code of all rows"),
        maps: list[str] = typer.Option([], "--map", help="COLUMN=field, repeatable"),
        category: str | None = typer.Option(None, "--category", help="Category of all rows"),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count only"),
        skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                          help="Write the good rows, report the rest"),
        close_missing: bool = typer.Option(False, "--close-missing",
                                           help="Mark registered premises absent from the "
                                                "file as closed, or retire such facilities of "
                                                "its kinds and regions (full re-import)"),
        sheet: str | None = typer.Option(None, "--sheet", help="XLSX sheet"),
        layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer"),
        json_out: bool = typer.Option(False, "--json", help="Print the outcome as JSON"),
    ) -> None:
        _run(kind, file, crs, region, maps, category, dry_run, skip_invalid, close_missing,
             sheet, layer, json_out)

    command.__doc__ = f"Import {kind} from a file (all-or-nothing unless --skip-invalid)."
    return command


app.command("schools")(_common("schools"))
app.command("gates")(_common("gates"))
app.command("premises")(_common("premises"))
app.command("facilities")(_common("facilities"))
