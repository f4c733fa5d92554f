"""Hijri dates by the tabular ("Kuwaiti") Islamic calendar.

The tabular calendar has 30-year cycles of 354- and 355-day years (leap
years 2, 5, 7, 10, 13, 16, 18, 21, 24, 26, 29 of each cycle) and months of
alternately 30 and 29 days, counted from 1 Muharram 1 AH = 16 July 622
(Julian), the civil epoch.  It is what ICU calls ``islamic-civil``.  The
official Egyptian date follows the moon sighting and may differ by a day or
two; the display's ``hijri_adjust_days`` setting corrects for that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Julian day number of 1 Muharram 1 AH in the civil (Friday) epoch.
EPOCH_JDN = 1948440

MONTHS_AR = (
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع الآخر",
    "جمادى الأولى",
    "جمادى الآخرة",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذو الحجة",
)


@dataclass(frozen=True, order=True)
class HijriDate:
    year: int
    month: int
    day: int

    @property
    def month_name_ar(self) -> str:
        return MONTHS_AR[self.month - 1]


def _jdn(date: dt.date) -> int:
    # date.toordinal() is 1 for 0001-01-01 (proleptic Gregorian), JDN 1721426.
    return date.toordinal() + 1721425


def to_jdn(year: int, month: int, day: int) -> int:
    """Julian day number of a tabular Hijri date."""
    month_start = (59 * (month - 1) + 1) // 2  # ceil(29.5 * (month - 1))
    return day + month_start + (year - 1) * 354 + (3 + 11 * year) // 30 + EPOCH_JDN - 1


def to_hijri(date: dt.date, adjust_days: int = 0) -> HijriDate:
    """The tabular Hijri date of a Gregorian ``date`` (shifted by ``adjust_days``)."""
    jdn = _jdn(date) + adjust_days
    if jdn < EPOCH_JDN:
        raise ValueError(f"{date} is before the Hijri epoch")
    year = (30 * (jdn - EPOCH_JDN) + 10646) // 10631
    into_year = jdn - to_jdn(year, 1, 1)
    month = min(12, -((-2 * (into_year - 29)) // 59) + 1) if into_year >= 29 else 1
    day = jdn - to_jdn(year, month, 1) + 1
    return HijriDate(year, month, day)


def from_hijri(hijri: HijriDate) -> dt.date:
    return dt.date.fromordinal(to_jdn(hijri.year, hijri.month, hijri.day) - 1721425)
