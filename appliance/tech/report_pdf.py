"""The day report's printable page: HTML and CSS made into a PDF by WeasyPrint.

WeasyPrint lays text out with Pango and HarfBuzz, so the Arabic in the PDF is
shaped, selectable, searchable and read aloud by a screen reader; the charts
are SVG (``report_svg``).  The page is Arabic first, right to left; with
``[branch] report_english`` each heading and figure carries its English
beside it.  WeasyPrint is imported only here, when a report is made.
"""

from __future__ import annotations

import logging
from html import escape

from ..errors import HardwareError
from ..queue.model import RATINGS
from .report import DayReport, bucket_labels, histogram, stat
from .report_svg import bar_chart, meter

RATINGS_AR = {"satisfied": "راضٍ", "neutral": "محايد", "unsatisfied": "غير راضٍ"}
RATINGS_EN = {"satisfied": "Satisfied", "neutral": "Neutral", "unsatisfied": "Unsatisfied"}

CSS = """
@page { size: A4; margin: 10mm 10mm 12mm 10mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
html { direction: rtl; }
body { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Noto Sans", "DejaVu Sans",
       sans-serif; font-size: 9.5pt; color: #1e1e1e; margin: 0; }
.en { display: block; font-family: "Noto Sans", "DejaVu Sans", sans-serif; font-size: 0.75em;
      color: #555; font-weight: normal; }
h1 .en { display: inline; margin-inline-start: 1em; }
h1 { font-size: 15pt; margin: 0; }
h2 { font-size: 11pt; margin: 0 0 1mm 0; }
.sub { font-size: 10pt; margin: 0.5mm 0 2mm 0; border-bottom: 1.5pt solid #1e1e1e;
       padding-bottom: 1.5mm; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5mm; margin: 2mm 0; }
.figure { border: 0.6pt solid #999; padding: 0.8mm 1.2mm; width: 26.5mm; font-size: 8pt; }
.figure b { display: block; font-size: 11pt; }
.accounting { border: 1pt solid #1e1e1e; padding: 1.5mm 2mm; margin: 2mm 0; font-size: 10pt; }
.charts { display: flex; flex-wrap: wrap; gap: 2mm 3mm; }
.chart { width: 59mm; }
.chart h2 { font-size: 9pt; }
.chart svg { width: 59mm; height: auto; }
.chart table { margin-top: 0; }
.note { font-size: 8pt; color: #444; margin: 0.5mm 0; }
table { border-collapse: collapse; width: 100%; margin-top: 2mm; font-size: 8.5pt; }
td.name { width: 52mm; }
th, td { border-bottom: 0.5pt solid #bbb; padding: 0.8mm 1.2mm; text-align: right;
         vertical-align: top; }
td.n, th.n { text-align: center; font-family: "Noto Sans", sans-serif; white-space: nowrap; }
"""


def minutes_ar(values: list[float], q: float | None = None) -> str:
    """``12.5 دقيقة`` (a decimal count takes the singular), ``–`` for no values."""
    text = stat(values, q)
    return f"{text} دقيقة" if text else "–"


class Page:
    """Builds the HTML, with or without the English beside the Arabic."""

    def __init__(self, rep: DayReport) -> None:
        self.rep = rep
        self.english = rep.english

    def t(self, ar: str, en: str) -> str:
        text = escape(ar)
        if self.english and en:
            text += f'<span class="en" dir="ltr" lang="en">{escape(en)}</span>'
        return text

    def figure(self, ar: str, en: str, value: str) -> str:
        return f'<div class="figure">{self.t(ar, en)}<b>{escape(value)}</b></div>'

    def chart(self, ar: str, en: str, svg: str, note: str = "") -> str:
        return f'<div class="chart"><h2>{self.t(ar, en)}</h2>{svg}{note}</div>'

    def html(self) -> str:
        rep = self.rep
        o = rep.outcomes
        level = rep.priority_level
        centre = self.t(rep.name_ar, rep.name_en) if rep.name_ar else escape(rep.name_en)
        head = (
            f"<h1>{centre}</h1>"
            f'<p class="sub">{self.t(f"تقرير يوم {rep.day}", f"Day report {rep.day}")}</p>'
        )
        parts = [
            ("التذاكر", "Tickets", rep.arrivals),
            ("تمت خدمتهم", "served", o["served"]),
            ("لم يحضروا عند النداء", "no-shows", o["no_show"]),
            ("ألغيت", "voided", o["voided"]),
            ("ما زالوا في المركز عند الإغلاق", "still in the centre at close", o["waiting"]),
        ]

        def line(words: list[str]) -> str:
            head, *rest = (f"{w} <b>{n}</b>" for w, (_, _, n) in zip(words, parts, strict=True))
            return f"{head} = " + " + ".join(rest)

        accounting = (
            f'<div class="accounting" id="accounting"><div>{line([p[0] for p in parts])}</div>'
        )
        if self.english:
            accounting += f'<div class="en" dir="ltr">{line([p[1] for p in parts])}</div>'
        accounting += "</div>"
        note = self.t(
            "كل تذكرة مرة واحدة، بما انتهت إليه زيارتها عند الإغلاق"
            + (f"؛ منها {rep.transferred_visits} حولت إلى خدمة أخرى أثناء الزيارة"
               if rep.transferred_visits else ""),
            "each ticket once, as its visit stood at closing"
            + (f"; {rep.transferred_visits} of them transferred to another service on the way"
               if rep.transferred_visits else ""),
        )  # fmt: skip
        accounting += f'<p class="note">{note}</p>'
        waits = rep.all_waits
        figures = "".join(
            [
                self.figure("التذاكر", "Tickets", str(rep.arrivals)),
                self.figure("تمت خدمتهم", "Served", str(o["served"])),
                self.figure("متوسط الانتظار", "Mean wait", minutes_ar(waits)),
                self.figure("انتظر 90٪ أقل من", "90% waited less than", minutes_ar(waits, 90)),
                self.figure(
                    f"الأولوية: نودي عليهم خلال {rep.priority_target_min:g} دقيقة",
                    f"Priority called within {rep.priority_target_min:g} min",
                    "–" if level is None else f"{level:.0%} ({rep.priority_arrivals})",
                ),
                self.figure("متوسط مدة الخدمة", "Mean service time", minutes_ar(rep.service_times)),
            ]
        )
        never = len(rep.uncalled_waits)
        wait_note = ""
        if never:
            wait_note = (
                '<p class="note">'
                + self.t(
                    f"منهم {never} لم يناد عليهم حتى الإغلاق: حسب انتظارهم حتى آخر حركة في اليوم",
                    f"{never} never called: counted as waiting until the last activity of the day",
                )
                + "</p>"
            )
        svgs = chart_svgs(rep)
        charts = "".join(
            [
                self.chart("التذاكر في كل ساعة", "Tickets issued per hour",
                           svgs["tickets_per_hour.svg"]),
                self.chart("مدة الانتظار بالدقائق (عدد المواطنين)",
                           "Waiting time, minutes (citizens)", svgs["wait_distribution.svg"],
                           wait_note),
                self.chart("مدة الخدمة بالدقائق (عدد المواطنين)",
                           "Service time, minutes (citizens)",
                           svgs["service_time_distribution.svg"]),
                self.chart("المواطنون الذين خدمهم كل شباك", "Citizens served per window",
                           svgs["counters.svg"]),
                self.chart("آراء المواطنين", "Satisfaction feedback", self.feedback()),
            ]
        )  # fmt: skip
        return (
            '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f"<title>{escape(rep.name_ar)} {rep.day}</title><style>{CSS}</style></head><body>"
            f"{head}{accounting}<div class='figures'>{figures}</div>"
            f"<div class='charts'>{charts}</div>{self.services()}</body></html>"
        )

    def feedback(self) -> str:
        ratings = self.rep.ratings
        total = sum(ratings[r] for r in RATINGS)
        if not total:
            return f'<p class="note">{self.t("لم يسجل أي رأي اليوم", "No feedback was given")}</p>'
        rows = "".join(
            f"<tr><td>{self.t(RATINGS_AR[r], RATINGS_EN[r])}</td>"
            f'<td class="n">{meter(ratings[r], total)}</td><td class="n">{ratings[r]}</td></tr>'
            for r in RATINGS
        )
        return f"<table>{rows}</table>"

    def services(self) -> str:
        rep = self.rep
        heads = [
            ("الخدمة", "Service"),
            ("التذاكر", "Tickets"),
            ("محولة إليها", "Transferred in"),
            ("خدموا", "Served"),
            ("لم يحضروا", "No-shows"),
            ("حولوا", "Transferred"),
            ("ألغيت", "Voided"),
            ("في المركز", "Still in"),
            ("متوسط الانتظار", "Mean wait"),
        ]
        th = "".join(
            f'<th class="{"" if i == 0 else "n"}">{self.t(ar, en)}</th>'
            for i, (ar, en) in enumerate(heads)
        )
        rows = []
        for s in rep.services.values():
            name = escape(rep.names_ar.get(s.service, s.service))
            if self.english and rep.names.get(s.service):
                name += f'<br><span class="en" dir="ltr" lang="en">{escape(rep.names[s.service])}</span>'
            cells = [
                s.arrivals, s.transfers_in, s.served, s.no_shows, s.transferred, s.voided,
                s.waiting,
            ]  # fmt: skip
            tds = "".join(f'<td class="n">{v}</td>' for v in cells)
            wait = minutes_ar(s.waits + s.uncalled_waits)
            rows.append(f'<tr><td class="name">{name}</td>{tds}<td class="n">{wait}</td></tr>')
        title = self.t("حسب الخدمة", "Per service")
        note = self.t(
            "لكل خدمة: التذاكر + المحولة إليها = خدموا + لم يحضروا + حولوا + ألغيت + في المركز"
            " (ينتظرون أو عند الشباك عند الإغلاق)",
            "per service: tickets + transferred in = served + no-shows + transferred + voided"
            " + still in (waiting or at a window at closing)",
        )
        return (
            f'<h2 style="margin-top:3mm">{title}</h2><p class="note">{note}</p>'
            f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


def chart_svgs(rep: DayReport) -> dict[str, str]:
    """The charts, file name → SVG (also written beside the PDF)."""
    hours = sorted(rep.hours)
    counters = list(rep.counters.values())
    return {
        "tickets_per_hour.svg": bar_chart(
            [f"{h:02d}" for h in hours], [sum(rep.hours[h].values()) for h in hours]
        ),
        "wait_distribution.svg": bar_chart(bucket_labels(), histogram(rep.all_waits)),
        "service_time_distribution.svg": bar_chart(bucket_labels(), histogram(rep.service_times)),
        "counters.svg": bar_chart(
            [str(c.window or c.counter) for c in counters], [c.served for c in counters]
        ),
    }


def render_pdf(rep: DayReport) -> bytes:
    """``report.pdf`` of ``rep``."""
    return html_to_pdf(Page(rep).html())


def html_to_pdf(html: str) -> bytes:
    """A PDF of a report page (also the cross-branch report's)."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise HardwareError(
            f"cannot make the PDF: {exc} (install WeasyPrint and Pango: "
            "pip install weasyprint; apt install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from None
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # step-by-step chatter
    data: bytes = HTML(string=html).write_pdf()
    return data


def report_html(rep: DayReport) -> str:
    return Page(rep).html()
