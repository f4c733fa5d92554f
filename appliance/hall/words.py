"""What the hall announcer says: number words, letter names, the call sentence.

Everything is expressed as a list of *clip names* (tokens) first; the text is
derived from the same tokens, so what ``nidaa announce --text`` prints is
exactly what the voice pack plays.

Arabic numbers follow Modern Standard Arabic as announced in Egyptian halls:
the masculine counting form, units before tens joined by و (ثلاثة وعشرون),
مئة / مئتان / ثلاثمئة … تسعمئة written as one word, 11 أحد عشر, 12 اثنا عشر,
ألف / ألفان / ثلاثة آلاف for the rare four-digit ticket.

Prefix letters (the ``A`` of ``A123``) are spoken in one of two styles:

``abjad`` (default)
    the Arabic letters in the أبجد order used for enumerations in Egyptian
    official documents: A→أ B→ب C→ج D→د E→هـ F→و …; so the first services read
    أ ب ج د هـ, as citizens know from forms.  The glyph is shown, its name
    (ألف، باء، جيم …) is spoken.
``latin``
    the Latin letter's name said in Arabic (إيه، بي، سي …), for centres whose
    tickets and signs only show the Latin letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..label import ABJAD as ABJAD

Language = Literal["ar", "en"]
LetterStyle = Literal["abjad", "latin"]

LANGUAGES: tuple[Language, ...] = ("ar", "en")
LETTER_STYLES: tuple[LetterStyle, ...] = ("abjad", "latin")

#: Clip name of the short "and" joining number parts.
AND = "and"
#: Not a clip: the composer inserts silence here (the comma of the sentence).
PAUSE = "pause"
#: Clip names of the two fixed phrases of a call.
CUSTOMER = "customer"
WINDOW = "window"

MAX_NUMBER = 9999

_AR_UNITS = {
    0: "صفر",
    1: "واحد",
    2: "اثنان",
    3: "ثلاثة",
    4: "أربعة",
    5: "خمسة",
    6: "ستة",
    7: "سبعة",
    8: "ثمانية",
    9: "تسعة",
    10: "عشرة",
    11: "أحد عشر",
    12: "اثنا عشر",
    13: "ثلاثة عشر",
    14: "أربعة عشر",
    15: "خمسة عشر",
    16: "ستة عشر",
    17: "سبعة عشر",
    18: "ثمانية عشر",
    19: "تسعة عشر",
    20: "عشرون",
    30: "ثلاثون",
    40: "أربعون",
    50: "خمسون",
    60: "ستون",
    70: "سبعون",
    80: "ثمانون",
    90: "تسعون",
    100: "مئة",
    200: "مئتان",
    300: "ثلاثمئة",
    400: "أربعمئة",
    500: "خمسمئة",
    600: "ستمئة",
    700: "سبعمئة",
    800: "ثمانمئة",
    900: "تسعمئة",
    1000: "ألف",
    2000: "ألفان",
}

_EN_UNITS = {
    0: "zero",
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
    15: "fifteen",
    16: "sixteen",
    17: "seventeen",
    18: "eighteen",
    19: "nineteen",
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}


# Kept as text, one name per letter A…Z, so the table reads like a sign.
_LATIN_AR_NAMES = (
    "إيه بي سي دي إي إف جي إتش آي جيه كيه إل إم إن أو بي كيو آر إس تي يو في دبليو إكس واي زد"
)
_LATIN_EN_NAMES = (
    "ay bee see dee ee eff gee aitch eye jay kay ell em "
    "en oh pee cue ar ess tee you vee double-you ex why zed"
)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Latin letter names as said in Arabic (P is said بي like B: avoid using both).
LATIN_AR: dict[str, str] = dict(zip(_ALPHABET, _LATIN_AR_NAMES.split(), strict=True))

#: Latin letter names as said in English (British "zed", as taught in Egypt).
LATIN_EN: dict[str, str] = dict(zip(_ALPHABET, _LATIN_EN_NAMES.split(), strict=True))

_PHRASES = {
    "ar": {CUSTOMER: "العميل رقم", WINDOW: "الشباك رقم"},
    "en": {CUSTOMER: "Customer number", WINDOW: "window number"},
}

_TICKET = re.compile(r"([A-Z])0*(\d{1,4})")


def _check(n: int) -> None:
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"cannot say {n}: numbers from 0 to {MAX_NUMBER} are supported")


def number_tokens(n: int, language: Language = "ar") -> list[str]:
    """Clip names that say ``n`` (0…9999), e.g. 123 → ``["100", "and", "3", "and", "20"]``."""
    _check(n)
    if n == 0:
        return ["0"]
    return _ar_tokens(n) if language == "ar" else _en_tokens(n)


def _ar_below_100(n: int) -> list[str]:
    if n <= 20 or n % 10 == 0:
        return [str(n)]
    return [str(n % 10), AND, str(n - n % 10)]  # units before tens


def _ar_tokens(n: int) -> list[str]:
    parts: list[list[str]] = []
    thousands, rest = divmod(n, 1000)
    if thousands in (1, 2):
        parts.append([str(thousands * 1000)])
    elif thousands:
        parts.append([str(thousands), "thousands"])  # ثلاثة آلاف
    hundreds, rest = divmod(rest, 100)
    if hundreds:
        parts.append([str(hundreds * 100)])
    if rest:
        parts.append(_ar_below_100(rest))
    return _join(parts)


def _en_below_100(n: int) -> list[str]:
    if n < 20 or n % 10 == 0:
        return [str(n)]
    return [str(n - n % 10), str(n % 10)]


def _en_tokens(n: int) -> list[str]:
    out: list[str] = []
    thousands, rest = divmod(n, 1000)
    if thousands:
        out += [str(thousands), "thousand"]
    hundreds, rest = divmod(rest, 100)
    if hundreds:
        out += [str(hundreds), "hundred"]
    if rest:
        if out:
            out.append(AND)
        out += _en_below_100(rest)
    return out


def _join(parts: Iterable[list[str]]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if out:
            out.append(AND)
        out += part
    return out


def letter_token(prefix: str, style: LetterStyle = "abjad") -> str:
    """Clip name of a prefix letter: ``letter_a`` (abjad) or ``latin_a``."""
    if prefix not in ABJAD:
        raise ValueError(f"ticket prefix must be a letter A–Z, not {prefix!r}")
    return f"{'letter' if style == 'abjad' else 'latin'}_{prefix.lower()}"


def letter_glyph(prefix: str, style: LetterStyle = "abjad") -> str:
    """The letter shown for a Latin prefix: ``أ`` for ``A`` in the abjad style."""
    if prefix not in ABJAD:
        raise ValueError(f"ticket prefix must be a letter A–Z, not {prefix!r}")
    return ABJAD[prefix][0] if style == "abjad" else prefix


def parse_ticket(ticket: str) -> tuple[str, int]:
    """``"A001"`` → ``("A", 1)``; ``ValueError`` for anything else."""
    m = _TICKET.fullmatch(ticket.strip().upper())
    if not m:
        raise ValueError(f"not a ticket number: {ticket!r} (expected a letter and digits, A123)")
    return m.group(1), int(m.group(2))


@dataclass(frozen=True)
class Announcement:
    """One call as it will be spoken."""

    ticket: str
    window: int
    language: Language = "ar"
    letters: LetterStyle = "abjad"

    def tokens(self) -> list[str]:
        """Clip names in playing order (``pause`` is silence, not a clip)."""
        prefix, number = parse_ticket(self.ticket)
        _check(self.window)
        letter = (
            letter_token(prefix, self.letters) if self.language == "ar" else f"en_{prefix.lower()}"
        )
        return [
            CUSTOMER,
            letter,
            *number_tokens(number, self.language),
            PAUSE,
            WINDOW,
            *number_tokens(self.window, self.language),
        ]

    def text(self) -> str:
        """The sentence, e.g. «العميل رقم أ مئة وثلاثة وعشرون، الشباك رقم أربعة»."""
        sentence = tokens_text(self.tokens(), self.language)
        return sentence + "." if self.language == "en" else sentence


def token_word(token: str, language: Language = "ar") -> str:
    """The written word of one clip name (what the clip says)."""
    if token in _PHRASES[language]:
        return _PHRASES[language][token]
    if token == AND:
        return "و" if language == "ar" else "and"
    if token == "thousands":
        return "آلاف"
    if token in ("thousand", "hundred"):
        return token
    if token.startswith(("letter_", "latin_", "en_")):
        key = token.rsplit("_", 1)[1].upper()
        if token.startswith("letter_"):
            return ABJAD[key][0]
        return key if token.startswith("en_") else LATIN_AR[key]
    table = _AR_UNITS if language == "ar" else _EN_UNITS
    return table[int(token)]


def tokens_text(tokens: Sequence[str], language: Language = "ar") -> str:
    """Join clip names into the written sentence (Arabic و attaches to the next word)."""
    words: list[str] = []
    glue = False
    for i, token in enumerate(tokens):
        if token == PAUSE:
            if words:
                words[-1] += "،" if language == "ar" else ","
            continue
        if token == AND and language == "ar":
            glue = True
            continue
        word = token_word(token, language)
        # English tens and units: twenty-three.
        if (
            language == "en"
            and i > 0
            and token.isdigit()
            and tokens[i - 1].isdigit()
            and int(tokens[i - 1]) >= 20
            and int(token) < 10
        ):
            words[-1] += f"-{word}"
            continue
        words.append(f"و{word}" if glue else word)
        glue = False
    return " ".join(words)


def number_words(n: int, language: Language = "ar") -> str:
    """``n`` written out: 215 → «مئتان وخمسة عشر», "two hundred and fifteen"."""
    return tokens_text(number_tokens(n, language), language)


def clip_names(language: Language, letters: LetterStyle = "abjad") -> list[str]:
    """Every clip a voice pack needs to say any call in ``language``.

    ``chime`` first, then the phrases, number words and letter names.  This
    list is the contract between ``sounds/make_clips.py``, a centre's own
    recorded voice pack and the announcer's start-up check.
    """
    numbers = [str(i) for i in range(21)] + [str(i * 10) for i in range(3, 10)]
    names = ["chime", CUSTOMER, WINDOW, AND]
    if language == "ar":
        numbers += [str(i * 100) for i in range(1, 10)] + ["1000", "2000", "thousands"]
        letter_names = [letter_token(c, letters) for c in _ALPHABET]
    else:
        numbers += ["hundred", "thousand"]
        letter_names = [f"en_{c.lower()}" for c in _ALPHABET]
    return names + numbers + letter_names
