"""The period report as a printable HTML page (and PDF through headless Chromium)."""

from __future__ import annotations

from html import escape
from typing import Any

from zoneguard.reports.period import COUNTS, DEFINITIONS, GROUPINGS, RATES
from zoneguard.reports.period_report import PeriodReport
from zoneguard.reports.period_xlsx import FIGURE_HEADERS, GROUP_HEADS, TITLE
from zoneguard.reports.record import CSS, html_to_pdf

_PAGE_CSS = """
@page { size: A4 landscape; margin: 12mm; }
table.grid th, table.grid td { font-size: 11px; padding: 3px 4px; width: auto; }
table.grid td.n { text-align: right; }
table.grid td:first-child, table.grid th:first-child { width: 150px; }
tr.total td { font-weight: bold; background: #f4f4f4; }
h2 { page-break-after: avoid; } .meta th { width: 160px; }
"""


def _num(value: Any, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _delta(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.1f} 个百分点" if percent else f"{value:+g}"
    return text.replace("+0 ", "0 ") if value == 0 else text


def _cells(values: dict[str, Any]) -> str:
    counts = "".join(f'<td class="n">{_num(values[k])}</td>' for k, _ in COUNTS)
    rates = "".join(f'<td class="n">{_num(values[k], True)}</td>' for k, *_ in RATES)
    return counts + rates


def _grouped(report: PeriodReport, by: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in (GROUP_HEADS[by], *FIGURE_HEADERS))
    body = "".join(f"<tr><td>{escape(g.name)}</td>{_cells(v)}</tr>"
                   for g, v in report.groups[by])
    total = f'<tr class="total"><td>合计</td>{_cells(report.total)}</tr>'
    return (f"<h2>{escape(GROUPINGS[by])}</h2><table class=\"grid\"><tr>{head}</tr>"
            f"{body}{total}</table>")


def period_html(report: PeriodReport) -> str:
    """A self-contained HTML page: summary with 环比, trend, grouped tables, definitions."""
    p = report.period
    meta = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in (
        ("统计期间", f"{p.start.isoformat()} 至 {p.end.isoformat()}（{p.code}）"),
        ("上一期间（环比）", p.previous().label),
        ("生成时间（北京时间）", f"{report.generated_at:%Y-%m-%d %H:%M:%S}"),
        ("统计范围", report.scope_text)))
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td class=\"n\">{_num(report.total[k])}</td>"
        f"<td class=\"n\">{_num(report.previous_total[k])}</td>"
        f"<td class=\"n\">{_delta(report.change[k])}</td></tr>" for k, n in COUNTS)
    rows += "".join(
        f"<tr><td>{escape(n)}</td><td class=\"n\">{_num(report.total[k], True)}</td>"
        f"<td class=\"n\">{_num(report.previous_total[k], True)}</td>"
        f"<td class=\"n\">{_delta(report.change[k], True)}</td></tr>" for k, n, *_ in RATES)
    trend = "".join(f"<tr><td>{escape(t.label)}</td><td class=\"n\">{v['new']}</td>"
                    f"<td class=\"n\">{v['closed']}</td><td class=\"n\">{v['open_end']}</td></tr>"
                    for t, v in report.trend)
    notes = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in DEFINITIONS)
    grouped = "".join(_grouped(report, by) for by in GROUPINGS)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(TITLE)}（{escape(p.label)}）</title><style>{CSS}{_PAGE_CSS}</style></head><body>
<h1>{escape(TITLE)}（{escape(p.label)}）</h1>
<table class="meta">{meta}</table>
<h2>汇总</h2><table class="grid"><tr><th>指标</th><th>本期</th><th>上期</th><th>环比增减</th></tr>
{rows}</table>
<h2>近 {len(report.trend)} 期趋势</h2><table class="grid"><tr><th>统计期间</th><th>本期新增</th>
<th>本期销号</th><th>期末未办结</th></tr>{trend}</table>
{grouped}
<h2>统计口径</h2><table class="meta">{notes}</table>
</body></html>"""


def period_pdf(report: PeriodReport) -> bytes:
    """The period report printed to PDF."""
    return html_to_pdf(period_html(report))
