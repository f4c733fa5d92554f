"""The cross-branch report's printable pages, and its files.

The branch report's conventions (appliance/tech/report_pdf.py): Arabic
first, right to left, laid out by WeasyPrint from HTML and CSS with the
charts as SVG; only numbers inside a chart (the branches' bars are numbered
as the table's rows are), every word page text; dark grey on white.  First
the branches side by side, then a block per branch: its figures, its
charts and its services.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..queue.model import RATINGS
from ..tech.report import bucket_labels, histogram, stat
from ..tech.report_files import write_files
from ..tech.report_pdf import CSS, html_to_pdf
from ..tech.report_svg import bar_chart
from .report import BranchTally, CentralReport, ServiceTally, tables

_EXTRA_CSS = """
.branch-block { break-before: page; }
td.num { width: 6mm; }
"""


def _minutes(values: list[float], q: float | None = None) -> str:
    text = stat(values, q)
    return f"{text} دقيقة" if text else "–"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _name(t: ServiceTally) -> str:
    return escape(t.name_ar or t.name_en or t.service)


def _figure(label: str, value: str) -> str:
    return f'<div class="figure">{escape(label)}<b>{escape(value)}</b></div>'


def _chart(title: str, svg: str) -> str:
    return f'<div class="chart"><h2>{escape(title)}</h2>{svg}</div>'


_HEADS = ["التذاكر", "خدموا", "لم يحضروا", "ألغيت", "في المركز", "حولوا", "متوسط الانتظار",
          "انتظر 90٪ أقل من", "ضمن الهدف", "راضون"]  # fmt: skip


def _cells(t: ServiceTally) -> str:
    o = t.outcomes
    rated = sum(t.ratings[r] for r in RATINGS)
    values = [
        str(t.tickets), str(o["served"]), str(o["no_show"]), str(o["voided"]), str(t.still_in),
        str(o["transferred"]), _minutes(t.waits), _minutes(t.waits, 90),
        _share(t.within_target), _share(t.ratings["satisfied"] / rated if rated else None),
    ]  # fmt: skip
    return "".join(f'<td class="n">{escape(v)}</td>' for v in values)


def _table(first: str, rows: Sequence[tuple[str, str, ServiceTally]]) -> str:
    th = f'<th class="num">#</th><th>{escape(first)}</th>' + "".join(
        f'<th class="n">{h}</th>' for h in _HEADS
    )
    body = "".join(
        f'<tr><td class="n num">{escape(num)}</td><td class="name">{name}</td>{_cells(t)}</tr>'
        for num, name, t in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _accounting(t: ServiceTally) -> str:
    o = t.outcomes
    return (
        f'<div class="accounting">الزيارات <b>{t.visits}</b> = تمت خدمتهم <b>{o["served"]}</b>'
        f' + لم يحضروا <b>{o["no_show"]}</b> + ألغيت <b>{o["voided"]}</b>'
        f" + ما زالوا في المركز عند الإغلاق <b>{t.still_in}</b></div>"
    )


def _figures(t: BranchTally) -> str:
    return '<div class="figures">' + "".join(
        [
            _figure("التذاكر", str(t.tickets)),
            _figure("تمت خدمتهم", str(t.outcomes["served"])),
            _figure("لم يحضروا", str(t.outcomes["no_show"])),
            _figure("متوسط الانتظار", _minutes(t.waits)),
            _figure("ضمن الهدف", _share(t.within_target)),
            _figure("متوسط مدة الخدمة", _minutes(t.service_times)),
            _figure("راضون", _share(t.satisfaction)),
        ]
    ) + "</div>"


def _time_chart(rep: CentralReport, b: BranchTally) -> str:
    if rep.one_day:
        hours = sorted(b.hours)
        return _chart(
            "التذاكر في كل ساعة",
            bar_chart([f"{h:02d}" for h in hours], [b.hours[h] for h in hours]),
        )
    days = sorted(rep.total.days)
    return _chart(
        "التذاكر في كل يوم (اليوم من الشهر)",
        bar_chart([d[-2:] for d in days], [b.days[d] for d in days]),
    )


def page_html(rep: CentralReport) -> str:
    branches = list(rep.branches.values())
    total = rep.total
    numbered = [(str(i), b) for i, b in enumerate(branches, 1)]
    rows = [(n, _name(b), b) for n, b in numbered]
    rows.append(("", "كل الفروع", total))
    waits = [round(float(stat(b.waits) or 0)) for b in branches]
    overview = (
        f"<h1>تقرير الفروع</h1><p class='sub'>{escape(rep.period)} — {len(branches)} فرع</p>"
        f"{_accounting(total)}{_figures(total)}"
        '<div class="charts">'
        + _chart("التذاكر في كل فرع (رقم الفرع في الجدول)",
                 bar_chart([n for n, _ in numbered], [b.tickets for b in branches]))
        + _chart("متوسط الانتظار بالدقائق في كل فرع",
                 bar_chart([n for n, _ in numbered], waits))
        + _chart("مدة الانتظار بالدقائق (عدد التذاكر)",
                 bar_chart(bucket_labels(), histogram(total.waits)))
        + "</div>"
        + _table("الفرع", rows)
        + '<p class="note">الزيارة: تذكرة لم تنته بتحويل (التحويل يكمل الزيارة بتذكرة أخرى)؛ '
        "الانتظار: من الإصدار إلى أول نداء، ومن لم يناد عليه حتى آخر حركة في يوم فرعه؛ "
        "ضمن الهدف: ضمن الانتظار المستهدف لخدمته.</p>"
    )  # fmt: skip
    blocks = []
    for n, b in numbered:
        services = [("", _name(s), s) for s in b.services.values() if s.tickets]
        if not b.tickets:
            blocks.append(
                f'<div class="branch-block"><h1>{n}. {_name(b)}</h1>'
                '<p class="note">لا تذاكر في هذه الفترة في النسخة المركزية.</p></div>'
            )
            continue
        blocks.append(
            f'<div class="branch-block"><h1>{n}. {_name(b)}</h1>'
            f'<p class="sub"><span dir="ltr">{escape(b.branch)}</span> — {escape(rep.period)}</p>'
            f"{_accounting(b)}{_figures(b)}"
            '<div class="charts">'
            + _time_chart(rep, b)
            + _chart("مدة الانتظار بالدقائق (عدد التذاكر)",
                     bar_chart(bucket_labels(), histogram(b.waits)))
            + _chart("مدة الخدمة بالدقائق (عدد التذاكر)",
                     bar_chart(bucket_labels(), histogram(b.service_times)))
            + "</div><h2>حسب الخدمة</h2>"
            + _table("الخدمة", services)
            + "</div>"
        )  # fmt: skip
    return (
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>تقرير الفروع {escape(rep.period)}</title>"
        f"<style>{CSS}{_EXTRA_CSS}</style></head><body>{overview}{''.join(blocks)}</body></html>"
    )


def chart_svgs(rep: CentralReport) -> dict[str, str]:
    """The charts beside the PDF: tickets and mean wait per branch (numbered
    in the order of ``branches.csv``), the waits of every branch."""
    branches = list(rep.branches.values())
    labels = [str(i) for i in range(1, len(branches) + 1)]
    return {
        "tickets_per_branch.svg": bar_chart(labels, [b.tickets for b in branches]),
        "mean_wait_per_branch.svg": bar_chart(
            labels, [round(float(stat(b.waits) or 0)) for b in branches]
        ),
        "wait_distribution.svg": bar_chart(bucket_labels(), histogram(rep.total.waits)),
    }


def write_central_report(rep: CentralReport, out: Path) -> list[Path]:
    """Every CSV, the SVG charts and ``report.pdf`` into ``out``; nothing is
    written unless all of it was made."""
    files: dict[str, str | bytes] = {**tables(rep), **chart_svgs(rep)}
    files["report.pdf"] = html_to_pdf(page_html(rep))
    return write_files(out, files)
