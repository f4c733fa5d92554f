"""Arabic counted nouns: «دقيقة واحدة», «دقيقتان», «5 دقائق», «25 دقيقة».

The one place where a number and the noun it counts are put together, used
by the ticket, the hall screen and the SMS texts.  The rules of Modern
Standard Arabic as written in Egyptian offices, for a count written in digits:

* 1: the noun, then واحد/واحدة agreeing with it (``دقيقة واحدة``);
* 2: the dual alone, no digit (``دقيقتان``; ``دقيقتين`` in the genitive or
  accusative, e.g. after «حوالي»);
* 3–10: the digits and the plural (``5 دقائق``);
* 11–99: the digits and the singular in the accusative (``25 دقيقة``,
  ``12 مواطنًا``);
* 100, 200 …: the digits and the singular in the genitive (``100 دقيقة``);
* above 100 the noun agrees with the last two digits: 101 and 102 take the
  genitive singular (``101 مواطن``: the number is read مئة وواحد, and the noun
  follows the hundred), 103–110 the plural, 111–199 the accusative singular;
* 0: the digit and the genitive singular (``0 دقيقة``); a text that says
  «nobody ahead» says it in words, not with this function.

Durations of an hour or more are written the way a citizen reads them aloud,
in hours and minutes (``ساعة و5 دقائق``, ``ساعتان``), never as «1 س 05 د».
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Case = Literal["nom", "gen"]

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def digits(text: str, style: str) -> str:
    """Western digits as they are, or Arabic-Indic (١٢٣) for ``style="arabic"``."""
    return text.translate(_ARABIC_DIGITS) if style == "arabic" else text


@dataclass(frozen=True)
class Noun:
    """The forms of one countable noun."""

    singular: str  #: genitive singular, after 100, 101, 102 … (دقيقة، مواطن)
    accusative: str  #: singular after 11–99 (دقيقة، مواطنًا)
    dual_nom: str  #: دقيقتان
    dual_gen: str  #: دقيقتين
    plural: str  #: after 3–10 (دقائق، مواطنين)
    one: str  #: the word for "one" agreeing with the noun (واحدة / واحد)


MINUTE = Noun("دقيقة", "دقيقة", "دقيقتان", "دقيقتين", "دقائق", "واحدة")
HOUR = Noun("ساعة", "ساعة", "ساعتان", "ساعتين", "ساعات", "واحدة")
CITIZEN = Noun("مواطن", "مواطنًا", "مواطنان", "مواطنين", "مواطنين", "واحد")
TICKET = Noun("تذكرة", "تذكرة", "تذكرتان", "تذكرتين", "تذاكر", "واحدة")


def counted(n: int, noun: Noun, *, case: Case = "nom", style: str = "latin") -> str:
    """``n`` of ``noun`` as Arabic writes it (see the module's rules)."""
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    if n == 1:
        return f"{noun.singular} {noun.one}"
    if n == 2:
        return noun.dual_nom if case == "nom" else noun.dual_gen
    last = n % 100
    if 3 <= last <= 10:
        form = noun.plural
    elif last >= 11:
        form = noun.accusative
    else:  # 0, or a whole hundred, or a hundred and one or two
        form = noun.singular
    return f"{digits(str(n), style)} {form}"


def duration(minutes: int, *, case: Case = "nom", style: str = "latin") -> str:
    """A whole number of minutes, in hours and minutes from 60 on:
    ``45 دقيقة``, ``ساعة``, ``ساعة و5 دقائق``, ``ساعتان و20 دقيقة``."""
    if minutes < 60:
        return counted(minutes, MINUTE, case=case, style=style)
    hours, rest = divmod(minutes, 60)
    # «ساعة» alone reads naturally; «ساعة واحدة» only stresses the number.
    h = HOUR.singular if hours == 1 else counted(hours, HOUR, case=case, style=style)
    if rest == 0:
        return h
    return f"{h} و{counted(rest, MINUTE, case=case, style=style)}"
