"""Tabular Hijri dates, checked against ICU's islamic-civil calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.hall.hijri import HijriDate, from_hijri, to_hijri

# Gregorian date → (year, month, day) as ICU's "islamic-civil" calendar gives it.
KNOWN = {
    "0622-07-19": (1, 1, 1),  # the epoch, 16 July 622 Julian
    "1900-01-01": (1317, 8, 28),
    "1990-05-15": (1410, 10, 19),
    "2000-01-01": (1420, 9, 24),
    "2024-03-11": (1445, 9, 1),  # 1 Ramadan 1445, as announced in Egypt
    "2024-07-07": (1445, 12, 30),  # officially 1 Muharram 1446: hence hijri_adjust_days
    "2025-03-01": (1446, 9, 1),
    "2025-06-26": (1446, 12, 29),
    "2026-11-30": (1448, 6, 19),
    "2029-06-15": (1451, 2, 2),
    "2030-12-31": (1452, 9, 6),
}


@pytest.mark.parametrize(("gregorian", "hijri"), sorted(KNOWN.items()))
def test_known_dates(gregorian: str, hijri: tuple[int, int, int]) -> None:
    assert to_hijri(dt.date.fromisoformat(gregorian)) == HijriDate(*hijri)


def test_adjustment_moves_the_day() -> None:
    assert to_hijri(dt.date(2024, 7, 7), adjust_days=1) == HijriDate(1446, 1, 1)
    assert to_hijri(dt.date(2024, 3, 11), adjust_days=-1) == HijriDate(1445, 8, 29)


def test_month_names() -> None:
    assert HijriDate(1445, 9, 1).month_name_ar == "رمضان"
    assert HijriDate(1448, 6, 19).month_name_ar == "جمادى الآخرة"


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_round_trip_and_consecutive_days(date: dt.date) -> None:
    h = to_hijri(date)
    assert from_hijri(h) == date
    assert 1 <= h.month <= 12 and 1 <= h.day <= 30
    nxt = to_hijri(date + dt.timedelta(days=1))
    if nxt.day != h.day + 1:  # a new month starts
        assert nxt.day == 1 and h.day in (29, 30)
        assert (nxt.year, nxt.month) in ((h.year, h.month + 1), (h.year + 1, 1))


def test_before_the_epoch_is_refused() -> None:
    with pytest.raises(ValueError):
        to_hijri(dt.date(600, 1, 1))
