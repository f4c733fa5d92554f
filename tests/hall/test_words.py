"""Number words, letter names and the call sentence, written out in full."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.hall.words import (
    ABJAD,
    Announcement,
    letter_glyph,
    number_tokens,
    number_words,
    parse_ticket,
    tokens_text,
)

ARABIC = {
    1: "واحد",
    2: "اثنان",
    3: "ثلاثة",
    10: "عشرة",
    11: "أحد عشر",
    12: "اثنا عشر",
    13: "ثلاثة عشر",
    19: "تسعة عشر",
    20: "عشرون",
    21: "واحد وعشرون",
    22: "اثنان وعشرون",
    30: "ثلاثون",
    45: "خمسة وأربعون",
    99: "تسعة وتسعون",
    100: "مئة",
    101: "مئة وواحد",
    102: "مئة واثنان",
    110: "مئة وعشرة",
    111: "مئة وأحد عشر",
    112: "مئة واثنا عشر",
    120: "مئة وعشرون",
    123: "مئة وثلاثة وعشرون",
    200: "مئتان",
    215: "مئتان وخمسة عشر",
    300: "ثلاثمئة",
    408: "أربعمئة وثمانية",
    500: "خمسمئة",
    600: "ستمئة",
    777: "سبعمئة وسبعة وسبعون",
    800: "ثمانمئة",
    999: "تسعمئة وتسعة وتسعون",
    1000: "ألف",
    1001: "ألف وواحد",
    2000: "ألفان",
    3000: "ثلاثة آلاف",
    2015: "ألفان وخمسة عشر",
}

ENGLISH = {
    1: "one",
    2: "two",
    3: "three",
    10: "ten",
    11: "eleven",
    12: "twelve",
    19: "nineteen",
    20: "twenty",
    21: "twenty-one",
    99: "ninety-nine",
    100: "one hundred",
    101: "one hundred and one",
    102: "one hundred and two",
    110: "one hundred and ten",
    111: "one hundred and eleven",
    200: "two hundred",
    215: "two hundred and fifteen",
    300: "three hundred",
    999: "nine hundred and ninety-nine",
    1234: "one thousand two hundred and thirty-four",
}


@pytest.mark.parametrize(("n", "words"), sorted(ARABIC.items()))
def test_arabic_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("n", "words"), sorted(ENGLISH.items()))
def test_english_number_words(n: int, words: str) -> None:
    assert number_words(n, "en") == words


def test_units_come_before_tens_in_the_clips() -> None:
    assert number_tokens(123) == ["100", "and", "3", "and", "20"]
    assert number_tokens(215) == ["200", "and", "15"]
    assert number_tokens(123, "en") == ["1", "hundred", "and", "20", "3"]


@given(st.integers(min_value=1, max_value=999))
def test_every_number_uses_a_small_clip_set(n: int) -> None:
    allowed = {str(i) for i in range(0, 21)} | {str(i * 10) for i in range(2, 10)}
    allowed |= {str(i * 100) for i in range(1, 10)} | {"and"}
    tokens = number_tokens(n)
    assert set(tokens) <= allowed
    # The sentence never has a dangling or doubled و.
    text = tokens_text(tokens)
    assert not text.endswith("و") and "وو " not in text and "  " not in text


def test_numbers_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="0 to 9999"):
        number_words(10000)
    with pytest.raises(ValueError):
        number_words(-1)


def test_the_full_call_sentence() -> None:
    call = Announcement("A123", 4)
    assert call.text() == "العميل رقم أ مئة وثلاثة وعشرون، الشباك رقم أربعة"
    assert call.tokens() == [
        "customer",
        "letter_a",
        "100",
        "and",
        "3",
        "and",
        "20",
        "pause",
        "window",
        "4",
    ]


def test_leading_zeros_of_a_ticket_are_not_spoken() -> None:
    assert Announcement("B007", 12).text() == "العميل رقم ب سبعة، الشباك رقم اثنا عشر"
    assert parse_ticket("a001") == ("A", 1)


def test_latin_letter_names_in_arabic() -> None:
    call = Announcement("C045", 2, letters="latin")
    assert call.text() == "العميل رقم سي خمسة وأربعون، الشباك رقم اثنان"
    assert call.tokens()[1] == "latin_c"


def test_english_variant() -> None:
    call = Announcement("A123", 4, language="en")
    assert call.text() == "Customer number A one hundred and twenty-three, window number four."
    assert call.tokens()[1] == "en_a"


def test_abjad_letters_follow_the_egyptian_enumeration_order() -> None:
    assert [letter_glyph(c) for c in "ABCDE"] == ["أ", "ب", "ج", "د", "هـ"]
    assert len({glyph for glyph, _ in ABJAD.values()}) == 26


@pytest.mark.parametrize("bad", ["", "123", "AA1", "A", "A12345", "٣"])
def test_bad_tickets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Announcement(bad, 1).tokens()
