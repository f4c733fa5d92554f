"""The words on the hall screen: dates, counts, and the rotating panel's pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..config.branch import Config
from ..counted import digits, duration
from .config import DisplayUnit
from .hijri import to_hijri

WEEKDAYS_AR = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
# The month names used in Egypt (not the Levantine كانون/تشرين).
MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)


def clock_text(now: dt.datetime, style: str = "latin") -> str:
    """12-hour time with ص/م, as Egyptian clocks show it: «10:05 ص»."""
    hour = now.hour % 12 or 12
    return digits(f"{hour}:{now.minute:02d} {'ص' if now.hour < 12 else 'م'}", style)


def gregorian_text(day: dt.date, style: str = "latin") -> str:
    weekday = WEEKDAYS_AR[day.weekday()]
    return digits(f"{weekday} {day.day} {MONTHS_AR[day.month - 1]} {day.year}", style)


def hijri_text(day: dt.date, adjust: int = 0, style: str = "latin") -> str:
    h = to_hijri(day, adjust)
    return digits(f"{h.day} {h.month_name_ar} {h.year} هـ", style)


def minutes_text(minutes: float | None, style: str = "latin") -> str:
    if minutes is None:
        return "-"
    return duration(max(1, round(minutes)), style=style)


def money(amount: float) -> str:
    return f"{amount:g} ج.م"


@dataclass(frozen=True)
class Page:
    """One page of the rotating panel: a title and lines of text (logical order)."""

    title: str
    items: tuple[str, ...]


def panel_pages(cfg: Config, unit: DisplayUnit) -> list[Page]:
    """Every page the rotating panel cycles through, in order."""
    pages: list[Page] = []
    if unit.show_documents:
        for s in cfg.services:
            if unit.services and s.id not in unit.services:
                continue
            if s.documents_ar:
                pages.append(Page(f"المستندات المطلوبة: {s.name_ar}", tuple(s.documents_ar)))
            if s.fees:
                fees = tuple(f"{f.item_ar}: {money(f.amount_egp)}" for f in s.fees)
                pages.append(Page(f"الرسوم المقررة: {s.name_ar}", fees))
    if unit.show_charter:
        b = cfg.branch
        channels = [f"الخط الساخن للشكاوى {b.hotline}"]
        channels.append(f"منظومة الشكاوى الحكومية الموحدة {unit.complaints_portal}")
        if b.phone:
            channels.append(f"تليفون المركز {b.phone}")
        channels.append(f"الطوارئ {b.emergency}")
        pages.append(Page("للشكاوى والمقترحات", tuple(channels)))
    pages += [Page("", (message,)) for message in unit.messages_ar]
    return pages or [Page(cfg.branch.name_ar, ())]
