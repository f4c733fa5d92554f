"""Arabic counted nouns, checked on every count 0–600 against the rules written
out here by hand (not computed by the code under test)."""

from __future__ import annotations

import pytest

from appliance.counted import CITIZEN, HOUR, MINUTE, counted, duration
from appliance.hall.pages import minutes_text
from appliance.kiosk.ticket import _minutes, _people

# Which form of the noun follows a count, range by range (inclusive), as an
# Arabic grammar states it for numbers written in digits:
#   one → noun + واحد(ة); two → the dual alone; 3–10 → plural;
#   11–99 → accusative singular; a whole hundred and a hundred-and-one/two →
#   genitive singular; beyond 100 the last two digits decide as below 100.
RANGES = [
    (0, 0, "singular"),
    (1, 1, "one"),
    (2, 2, "dual"),
    (3, 10, "plural"),
    (11, 99, "accusative"),
    (100, 102, "singular"),
    (103, 110, "plural"),
    (111, 199, "accusative"),
    (200, 202, "singular"),
    (203, 210, "plural"),
    (211, 299, "accusative"),
    (300, 302, "singular"),
    (303, 310, "plural"),
    (311, 399, "accusative"),
    (400, 402, "singular"),
    (403, 410, "plural"),
    (411, 499, "accusative"),
    (500, 502, "singular"),
    (503, 510, "plural"),
    (511, 599, "accusative"),
    (600, 600, "singular"),
]

# The forms, typed out for each noun.
FORMS = {
    "minute": {
        "one": "دقيقة واحدة",
        "dual": "دقيقتان",
        "dual_gen": "دقيقتين",
        "plural": "دقائق",
        "accusative": "دقيقة",
        "singular": "دقيقة",
    },
    "hour": {
        "one": "ساعة واحدة",
        "dual": "ساعتان",
        "dual_gen": "ساعتين",
        "plural": "ساعات",
        "accusative": "ساعة",
        "singular": "ساعة",
    },
    "citizen": {
        "one": "مواطن واحد",
        "dual": "مواطنان",
        "dual_gen": "مواطنين",
        "plural": "مواطنين",
        "accusative": "مواطنًا",
        "singular": "مواطن",
    },
}
NOUNS = {"minute": MINUTE, "hour": HOUR, "citizen": CITIZEN}


def expected(n: int, noun: str, case: str = "nom") -> str:
    (kind,) = [k for lo, hi, k in RANGES if lo <= n <= hi]
    forms = FORMS[noun]
    if kind == "one":
        return forms["one"]
    if kind == "dual":
        return forms["dual"] if case == "nom" else forms["dual_gen"]
    return f"{n} {forms[kind]}"


def test_the_ranges_cover_every_count_once() -> None:
    covered = [n for lo, hi, _ in RANGES for n in range(lo, hi + 1)]
    assert covered == list(range(601))


@pytest.mark.parametrize("noun", sorted(NOUNS))
@pytest.mark.parametrize("case", ["nom", "gen"])
def test_every_count_0_to_600(noun: str, case: str) -> None:
    for n in range(601):
        assert counted(n, NOUNS[noun], case=case) == expected(n, noun, case), n  # type: ignore[arg-type]


def test_spot_checks_read_as_arabic_does() -> None:
    assert counted(5, MINUTE) == "5 دقائق"
    assert counted(25, MINUTE) == "25 دقيقة"
    assert counted(12, CITIZEN) == "12 مواطنًا"
    assert counted(103, CITIZEN) == "103 مواطنين"
    assert counted(7, MINUTE, style="arabic") == "٧ دقائق"


def test_hours_and_minutes_in_words() -> None:
    assert duration(45) == "45 دقيقة"
    assert duration(60) == "ساعة"
    assert duration(61) == "ساعة ودقيقة واحدة"
    assert duration(65) == "ساعة و5 دقائق"
    assert duration(120) == "ساعتان"
    assert duration(140) == "ساعتان و20 دقيقة"
    assert duration(140, case="gen") == "ساعتين و20 دقيقة"
    assert duration(185) == "3 ساعات و5 دقائق"
    assert duration(722) == "12 ساعة ودقيقتان"
    for m in range(601):  # never the abbreviated «1 س 05 د»
        assert " س " not in duration(m) and not duration(m).endswith(" د")


def test_screen_ticket_and_grammar_agree() -> None:
    # The hall screen and the ticket say counts through the same rules.
    assert minutes_text(5) == "5 دقائق"
    assert minutes_text(65) == "ساعة و5 دقائق"
    assert minutes_text(5, "arabic") == "٥ دقائق"
    assert _minutes(2) == "دقيقتين"
    assert _minutes(7) == "7 دقائق"
    assert _people(2) == "أمامك مواطنان"
    assert _people(111) == "أمامك 111 مواطنًا"


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        counted(-1, MINUTE)
