"""The day report's charts as SVG: plain bars a manager prints in black and white.

Only numbers are drawn inside a chart (counts, hours, minute ranges, window
numbers); every word around it is HTML text, shaped by the PDF's text engine,
so the Arabic stays real text (searchable, read aloud) and is never drawn as
outlines the way an SVG renderer would lay out a right-to-left run.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

INK = "#1e1e1e"
BAR = "#3c3c3c"
GRID = "#d7d7d7"


def _step(vmax: float) -> int:
    """A round grid step giving at most six lines."""
    if vmax <= 6:
        return 1
    raw = vmax / 6
    mag = 10 ** math.floor(math.log10(raw))
    return int(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def bar_chart(labels: list[str], values: list[int], width: int = 300, height: int = 170) -> str:
    """Vertical bars with their numbers, ``labels`` under them (digits only).

    Bars run left to right in the order given (hours, minutes): a time axis
    reads left to right in Arabic documents too."""
    left, right, top, bottom = 34, width - 6, 16, height - 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Noto Sans, DejaVu Sans, sans-serif">'
    ]
    vmax = max(values, default=0)
    step = _step(vmax) if vmax else 1
    ymax = step * math.ceil(vmax / step) if vmax else 1
    for k in range(0, ymax + 1, step):
        y = bottom - (bottom - top) * k / ymax
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="{INK}">{k}</text>'
        )
    slot = (right - left) / max(1, len(values))
    bar = max(2.0, slot * 0.7)
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x0 = left + i * slot + (slot - bar) / 2
        h = (bottom - top) * v / ymax
        cx = x0 + bar / 2
        if v:
            parts.append(
                f'<rect class="bar" x="{x0:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{BAR}" data-value="{v}"/>'
                f'<text x="{cx:.1f}" y="{bottom - h - 3:.1f}" font-size="10" '
                f'text-anchor="middle" fill="{INK}">{v}</text>'
            )
        parts.append(
            f'<text x="{cx:.1f}" y="{bottom + 13}" font-size="{10 if slot >= 26 else 8}" '
            f'text-anchor="middle" fill="{INK}">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{INK}" '
        'stroke-width="1.5"/></svg>'
    )
    return "".join(parts)


def meter(value: int, vmax: int, width: int = 90, height: int = 10) -> str:
    """One horizontal bar (a table row's share), for rows labelled in HTML."""
    w = 0.0 if vmax <= 0 else width * value / vmax
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect x="0" y="0" width="{width}" height="{height}" '
        f'fill="{GRID}"/><rect class="bar" x="{width - w:.1f}" y="0" width="{w:.1f}" '
        f'height="{height}" fill="{BAR}" data-value="{value}"/></svg>'
    )
