"""The day report's charts (PNG) and its one printable page (PDF), Pillow only.

Plain bar charts drawn with ImageDraw: a centre manager prints the page in
black and white, so bars are dark, labels large, and every bar carries its
number.  Text goes through the shared Arabic renderer so the centre's Arabic
name is shaped correctly; without an Arabic font the page is English only.
"""

from __future__ import annotations

import io
import math
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from ..arabic import LATIN_FONTS, Align, ArabicRenderer, default_renderer, find_font
from ..errors import HardwareError
from ..queue.model import RATINGS
from .report import DayReport, bucket_labels, histogram

INK = (30, 30, 30)
BAR = (60, 60, 60)
GRID = (215, 215, 215)
#: A4 at 150 dpi: sharp enough for a laser printer, small enough to mail.
PAGE = (1240, 1754)
DPI = 150
PAGE_MARGIN = 60
#: One chart on the page: two columns between the margins, three rows.
CELL = ((PAGE[0] - 2 * PAGE_MARGIN - 20) // 2, 400)


class Text:
    """Draws a line: Arabic through the shared renderer, the rest with a Latin font.

    Labels without Arabic (numbers, ``10-15``) skip the Arabic renderer: its
    Arabic font has no Latin punctuation.  Without any font file installed,
    Pillow's built-in font keeps the report working in English.
    """

    def __init__(self) -> None:
        self.renderer: ArabicRenderer | None
        try:
            self.renderer = default_renderer()
        except HardwareError:
            self.renderer = None
        self._latin = find_font(LATIN_FONTS)

    @property
    def arabic(self) -> bool:
        return self.renderer is not None

    def _font(self, size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if self._latin is None:
            return ImageFont.load_default(size)
        path = self._latin
        bold_path = path.with_name(
            path.name.replace("-Regular.", "-Bold.").replace("Sans.", "Sans-Bold.")
        )
        return ImageFont.truetype(str(bold_path if bold and bold_path.exists() else path), size)

    def draw(
        self, img: Image.Image, xy: tuple[float, float], text: str, size: int,
        align: Align = "left", bold: bool = False,
    ) -> None:  # fmt: skip
        if self.renderer is not None and any(_is_arabic(ch) for ch in text):
            self.renderer.draw(img, xy, text, size, bold=bold, fill=INK, align=align)
            return
        anchor = {"right": "ra", "center": "ma"}.get(align, "la")
        ImageDraw.Draw(img).text(xy, text, font=self._font(size, bold), fill=INK, anchor=anchor)


def _is_arabic(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def _step(vmax: float) -> int:
    """A round grid step giving at most six lines."""
    if vmax <= 6:
        return 1
    raw = vmax / 6
    mag = 10 ** math.floor(math.log10(raw))
    return int(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def bar_chart(
    text: Text, title: str, labels: list[str], values: list[int], size: tuple[int, int]
) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    text.draw(img, (w / 2, 8), title, 24, align="center", bold=True)
    left, right, top, bottom = 64, w - 16, 56, h - 44
    if not values or max(values) == 0:
        text.draw(img, (w / 2, h / 2), "no tickets", 22, align="center")
        return img
    step = _step(max(values))
    ymax = step * math.ceil(max(values) / step)
    for k in range(0, ymax + 1, step):
        y = bottom - (bottom - top) * k / ymax
        d.line([(left, y), (right, y)], fill=GRID, width=1)
        text.draw(img, (left - 8, y - 10), str(k), 16, align="right")
    slot = (right - left) / len(values)
    bar = max(2.0, slot * 0.7)
    label_size = 16 if slot >= 40 else 12
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x0 = left + i * slot + (slot - bar) / 2
        y0 = bottom - (bottom - top) * v / ymax
        if v:
            d.rectangle([x0, y0, x0 + bar, bottom], fill=BAR)
            text.draw(img, (x0 + bar / 2, y0 - 22), str(v), 16, align="center")
        text.draw(img, (x0 + bar / 2, bottom + 8), label, label_size, align="center")
    d.line([(left, bottom), (right, bottom)], fill=INK, width=2)
    return img


def charts(
    rep: DayReport, text: Text, size: tuple[int, int] = (900, 480)
) -> dict[str, Image.Image]:
    hours = sorted(rep.hours)
    counters = list(rep.counters.values())
    return {
        "tickets_per_hour.png": bar_chart(
            text, "Tickets issued per hour", [f"{h:02d}" for h in hours],
            [sum(rep.hours[h].values()) for h in hours], size,
        ),
        "wait_distribution.png": bar_chart(
            text, "Waiting time (minutes): citizens", bucket_labels(), histogram(rep.waits), size
        ),
        "service_time_distribution.png": bar_chart(
            text, "Service time (minutes): citizens", bucket_labels(),
            histogram(rep.service_times), size,
        ),
        "counters.png": bar_chart(
            text, "Citizens served per window",
            [f"{c.window}" if c.window else c.counter for c in counters],
            [c.served for c in counters], size,
        ),
        "feedback.png": bar_chart(
            text, "Satisfaction feedback", list(RATINGS), [rep.ratings[r] for r in RATINGS], size
        ),
    }  # fmt: skip


def _minutes(values: list[float], q: float | None = None) -> str:
    if not values:
        return "–"
    if q is None:
        return f"{sum(values) / len(values):.1f} min"
    ordered = sorted(values)
    return f"{ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]:.1f} min"


def page(rep: DayReport, images: dict[str, Image.Image], text: Text) -> Image.Image:
    """The one page a manager prints: header, key figures, five charts."""
    w, _ = PAGE
    img = Image.new("RGB", PAGE, "white")
    d = ImageDraw.Draw(img)
    margin = PAGE_MARGIN
    if text.arabic and rep.name_ar:
        text.draw(img, (w - margin, 40), rep.name_ar, 34, align="right", bold=True)
    text.draw(img, (margin, 96), rep.name_en or rep.branch, 26)
    text.draw(img, (margin, 136), f"Day report {rep.day}", 30, bold=True)
    d.line([(margin, 186), (w - margin, 186)], fill=INK, width=2)
    s = rep.services.values()
    level = rep.priority_level
    figures = [
        ("Tickets", str(rep.arrivals)),
        ("Served", str(sum(x.served for x in s))),
        ("No-shows", str(sum(x.no_shows for x in s))),
        ("Mean wait", _minutes(rep.waits)),
        ("90% waited less than", _minutes(rep.waits, 90)),
        (f"Priority called within {rep.priority_target_min:g} min",
         "–" if level is None else f"{level:.0%} of {rep.priority_arrivals}"),
    ]  # fmt: skip
    col = (w - 2 * margin) / 3
    for i, (label, value) in enumerate(figures):
        x, y = margin + (i % 3) * col, 204 + (i // 3) * 84
        text.draw(img, (x, y), label, 20)
        text.draw(img, (x, y + 28), value, 32, bold=True)
    cell = CELL
    order = ["tickets_per_hour.png", "counters.png", "wait_distribution.png",
             "service_time_distribution.png", "feedback.png"]  # fmt: skip
    for i, name in enumerate(order):
        x = margin + (i % 2) * (cell[0] + 20)
        y = 390 + (i // 2) * (cell[1] + 20)
        img.paste(images[name], (int(x), int(y)))
    _service_table(rep, img, text, (margin + cell[0] + 20, 390 + 2 * (cell[1] + 20)), cell[0])
    return img


def _service_table(
    rep: DayReport, img: Image.Image, text: Text, xy: tuple[int, int], width: int
) -> None:
    """Per-service figures beside the last chart."""
    x, y = xy
    text.draw(img, (x + width / 2, y + 8), "Per service", 24, align="center", bold=True)
    cols = [0, width - 250, width - 160, width - 70]  # left edge / right edges of numbers
    y += 56
    heads = ("Service", "Tickets", "No-shows", "Mean wait")
    for i, head in enumerate(heads):
        text.draw(img, (x + cols[i], y), head, 16, align="left" if i == 0 else "right", bold=True)
    draw = ImageDraw.Draw(img)
    for s in rep.services.values():
        y += 30
        draw.line([(x, y - 4), (x + width, y - 4)], fill=GRID)
        name = rep.names.get(s.service, s.service)
        wait = f"{sum(s.waits) / len(s.waits):.0f} min" if s.waits else "–"
        cells = (name[:26], str(s.arrivals), str(s.no_shows), wait)
        for i, value in enumerate(cells):
            text.draw(img, (x + cols[i], y), value, 16, align="left" if i == 0 else "right")


def render_charts(rep: DayReport) -> dict[str, bytes]:
    """PNG charts and ``report.pdf``, as file name → bytes."""
    text = Text()
    images = charts(rep, text)
    out: dict[str, bytes] = {}
    for name, image in images.items():
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        out[name] = buf.getvalue()
    # Drawn again at their size on paper: scaling would shrink the labels.
    small = charts(rep, text, size=CELL)
    buf = io.BytesIO()
    page(rep, small, text).save(buf, format="PDF", resolution=DPI)
    out["report.pdf"] = buf.getvalue()
    return out
