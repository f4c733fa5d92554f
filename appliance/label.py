"""The ticket's label, one form for paper, hall screen, voice, counter sign and SMS.

A ticket is numbered ``E001`` by the master (a Latin prefix letter and
digits).  Citizens who do not read Latin letters match their paper to the
call by its Arabic form: the prefix's letter in the أبجد order used for
enumerations in Egyptian forms (A→أ B→ب C→ج D→د E→هـ …) and the number in
Arabic-Indic digits without leading zeros, ``هـ ١``, which is exactly what the
hall's voice says («هاء واحد»).

``[branch] ticket_label`` chooses what citizens see everywhere:

``both`` (default)
    paper shows both forms, equally large; the hall shows both; SMS says
    ``هـ ١ (E001)``;
``arabic``
    the Arabic form alone (the counter's LED sign, whose segment font has
    no Arabic letters, still shows ``E001``);
``latin``
    ``E001`` alone, and the hall's voice must say the Latin letter's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

LabelStyle = Literal["both", "arabic", "latin"]
LABEL_STYLES: tuple[LabelStyle, ...] = ("both", "arabic", "latin")

#: Latin prefix → (Arabic glyph shown, letter name spoken), abjad order.
ABJAD: dict[str, tuple[str, str]] = {
    "A": ("أ", "ألف"),
    "B": ("ب", "باء"),
    "C": ("ج", "جيم"),
    "D": ("د", "دال"),
    "E": ("هـ", "هاء"),
    "F": ("و", "واو"),
    "G": ("ز", "زاي"),
    "H": ("ح", "حاء"),
    "I": ("ط", "طاء"),
    "J": ("ي", "ياء"),
    "K": ("ك", "كاف"),
    "L": ("ل", "لام"),
    "M": ("م", "ميم"),
    "N": ("ن", "نون"),
    "O": ("س", "سين"),
    "P": ("ع", "عين"),
    "Q": ("ف", "فاء"),
    "R": ("ص", "صاد"),
    "S": ("ق", "قاف"),
    "T": ("ر", "راء"),
    "U": ("ش", "شين"),
    "V": ("ت", "تاء"),
    "W": ("ث", "ثاء"),
    "X": ("خ", "خاء"),
    "Y": ("ذ", "ذال"),
    "Z": ("ض", "ضاد"),
}

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_NUMBER = re.compile(r"([A-Z])0*(\d{1,4})")


@dataclass(frozen=True)
class TicketLabel:
    """The two forms of one ticket number."""

    latin: str  #: as the master numbers it: ``E001``
    arabic: str  #: ``هـ ١``; equal to ``latin`` for a number not of the form A123

    def text(self, style: LabelStyle) -> str:
        """The label as one line of text in ``style``."""
        if style == "latin" or self.arabic == self.latin:
            return self.latin
        if style == "arabic":
            return self.arabic
        return f"{self.arabic} ({self.latin})"

    def forms(self, style: LabelStyle) -> tuple[str, ...]:
        """The forms shown side by side (most prominent first) in ``style``."""
        if style == "latin" or self.arabic == self.latin:
            return (self.latin,)
        if style == "arabic":
            return (self.arabic,)
        return (self.arabic, self.latin)


def ticket_label(number: str) -> TicketLabel:
    """``"E001"`` → ``TicketLabel("E001", "هـ ١")``."""
    m = _NUMBER.fullmatch(number.strip().upper())
    if m is None:
        return TicketLabel(number, number)
    glyph = ABJAD[m.group(1)][0]
    return TicketLabel(number, f"{glyph} {m.group(2).translate(_ARABIC_DIGITS)}")
