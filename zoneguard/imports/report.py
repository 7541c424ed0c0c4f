"""Import report types and the report / rejected-rows CSV files written beside an input."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from zoneguard.cells import SafeCsvWriter, SafeDictWriter
from zoneguard.errors import ImportProblem

ImportKind = Literal["schools", "gates", "premises", "facilities"]
Severity = Literal["error", "warning"]

#: Excel on Chinese Windows opens UTF-8 CSV correctly only with a BOM.
REPORT_ENCODING = "utf-8-sig"
#: The report file's header (for people, in Excel) by RowProblem field, and severities in words.
_REPORT_HEADERS = {"row": "行号", "severity": "级别", "column": "列", "value": "值",
                   "problem": "问题"}
_SEVERITY_WORDS = {"error": "错误", "warning": "提示"}


@dataclass(frozen=True)
class RowProblem:
    """One problem on one input row; `row` is 1-based as the user sees it (0: whole file)."""

    row: int
    column: str | None
    value: str | None
    problem: str
    severity: Severity = "error"

    @property
    def message(self) -> str:
        """The problem as one sentence for a person: row, column as headed, value, problem."""
        where = f"第 {self.row} 行" if self.row > 0 else "整个文件"
        if not self.column:
            return f"{where}：{self.problem}"
        quoted = f"“{self.value}”" if self.value not in (None, "") else ""
        if quoted and self.problem.startswith(quoted):
            return f"{where}：{self.column}{self.problem}"
        if not quoted or quoted in self.problem:
            return f"{where}：{self.column}：{self.problem}"
        joint = "" if self.problem.startswith("不") else "："  # 经度“abc”不是数字
        return f"{where}：{self.column}{quoted}{joint}{self.problem}"

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-serialisable dict (`message`: the whole sentence)."""
        return {
            "row": self.row,
            "severity": self.severity,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
            "message": self.message,
        }


@dataclass
class ParsedImport:
    """A read and validated import file: canonical frame (EPSG:4326) plus its report."""

    kind: ImportKind
    frame: gpd.GeoDataFrame
    problems: list[RowProblem]
    rejected_rows: set[int]
    source_crs: str
    declared_crs: str | None
    file_name: str
    file_sha256: str
    encoding: str | None
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    #: Every row's attributes as JSON text, aligned with `frame`, when built column-wise.
    attributes_json: pa.Array | None = None

    @property
    def ok(self) -> bool:
        """Return True when no row was rejected."""
        return not self.rejected_rows

    def valid_frame(self) -> gpd.GeoDataFrame:
        """Return the rows that were not rejected (for skip-invalid imports)."""
        keep = ~self.frame["source_row"].isin(self.rejected_rows)
        return self.frame.loc[keep].reset_index(drop=True)

    def valid_attributes_json(self) -> pa.Array | None:
        """Return `attributes_json` of the rows of `valid_frame` (None when not built)."""
        if self.attributes_json is None or not self.rejected_rows:
            return self.attributes_json
        keep = ~self.frame["source_row"].isin(self.rejected_rows).to_numpy()
        return self.attributes_json.filter(pa.array(keep))

    def summary(self, *, max_problems: int = 200) -> dict[str, Any]:
        """Return a JSON-serialisable report (first `max_problems` problems)."""
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "file_sha256": self.file_sha256,
            "format": self.format,
            "encoding": self.encoding,
            "source_crs": self.source_crs,
            "declared_crs": self.declared_crs,
            "rows": len(self.frame),
            "rejected": len(self.rejected_rows),
            "warnings": list(self.warnings),
            "problem_count": len(self.problems),
            "problems": [p.as_dict() for p in self.problems[:max_problems]],
        }

    def as_problem(self) -> ImportProblem:
        """Return the ImportProblem an all-or-nothing import raises for rejected rows."""
        return ImportProblem(
            f"{self.file_name}：{len(self.frame)} 行中有 {len(self.rejected_rows)} 行有问题，"
            "整个文件未导入。请按导入报告修改这些行，或选择“跳过有问题的行”后再导入。",
            report=self.summary(),
        )


class FileUnusable(Exception):
    """Raised inside the import layer for a whole-file problem; becomes an ImportProblem."""

    def __init__(self, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


def file_problem(detail: str, *, file_name: str, kind: str, **facts: Any) -> ImportProblem:
    """Return an ImportProblem for a file that cannot be used at all, with its report."""
    report = {"kind": kind, "file_name": file_name, "error": detail, "problems": [], **facts}
    return ImportProblem(f"{file_name}：{detail}", report=report)


def jsonable(value: Any) -> Any:
    """Return `value` as a JSON-serialisable value (dates → ISO text, NaN → None)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def report_path(parsed: ParsedImport, out_dir: Path) -> Path:
    """Return the path of the `<file>.import-report.csv` for `parsed` in `out_dir`."""
    return Path(out_dir) / f"{parsed.file_name}.import-report.csv"


def rejected_path(parsed: ParsedImport, out_dir: Path) -> Path:
    """Return the path of the `<file>.rejected.csv` for `parsed` in `out_dir`."""
    return Path(out_dir) / f"{parsed.file_name}.rejected.csv"


def write_report(parsed: ParsedImport, out_dir: Path) -> Path:
    """Write every problem and file warning to `<file>.import-report.csv`; return its path."""
    path = report_path(parsed, out_dir)
    with path.open("w", encoding=REPORT_ENCODING, newline="") as handle:
        writer = SafeDictWriter(handle, list(_REPORT_HEADERS.values()))
        writer.writeheader()
        problems = [RowProblem(0, None, None, w, "warning") for w in parsed.warnings]
        for problem in problems + sorted(parsed.problems, key=lambda p: p.row):
            fields = problem.as_dict() | {"severity": _SEVERITY_WORDS[problem.severity]}
            writer.writerow({h: fields[k] for k, h in _REPORT_HEADERS.items()})
    return path


def write_rejected(parsed: ParsedImport, out_dir: Path) -> Path:
    """Write rejected rows (original attributes + problem) to `<file>.rejected.csv`."""
    path = rejected_path(parsed, out_dir)
    reasons: dict[int, list[str]] = {}
    for p in parsed.problems:
        if p.severity == "error":
            label = f"{p.column}：{p.problem}" if p.column else p.problem
            reasons.setdefault(p.row, []).append(label)
    frame = parsed.frame
    rejected = frame.loc[frame["source_row"].isin(parsed.rejected_rows)]
    records = list(zip(rejected["source_row"], rejected["attributes"], strict=True))
    columns: dict[str, None] = {}
    for _, attributes in records:
        columns.update(dict.fromkeys(attributes))
    header = ["原行号", *columns, "问题"]
    with path.open("w", encoding=REPORT_ENCODING, newline="") as handle:
        writer = SafeCsvWriter(handle)
        writer.writerow(header)
        for row, attributes in sorted(records, key=lambda r: int(r[0])):
            values = ["" if attributes.get(c) is None else attributes.get(c) for c in columns]
            writer.writerow([row, *values, "；".join(reasons.get(int(row), []))])
    return path


def write_report_files(parsed: ParsedImport, out_dir: Path) -> tuple[Path, Path]:
    """Write both the report and the rejected-rows file; return their paths."""
    return write_report(parsed, out_dir), write_rejected(parsed, out_dir)
