"""Egyptian mobile numbers: normalisation to E.164 and masking.

The gateway only ever sends to Egyptian mobiles (prefixes 010, 011, 012 and
015 followed by eight digits).  Clerks type numbers in every form citizens
give them, so :func:`normalize` accepts ``010 1234 5678``, ``+20 10-1234-5678``,
``0020101234 5678`` and Arabic-Indic digits, and returns one canonical form,
``+201012345678``.  Anything else is refused with a message that says what a
valid number looks like, so the clerk can correct it at the counter.

:func:`mask` is what logs and bus messages show: enough to recognise a
number while talking to its owner, not enough to call it.
"""

from __future__ import annotations

import re

from ..errors import NidaaError

#: Second and third digits of the national number of a mobile (010, 011, 012, 015).
MOBILE_PREFIXES = ("10", "11", "12", "15")

_SEPARATORS = re.compile(r"[\s\-.()\u00a0]")
# Arabic-Indic (٠-٩) and Extended Arabic-Indic (۰-۹) digits, as typed on Arabic keyboards.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NATIONAL = re.compile(r"1[0125][0-9]{8}")


class PhoneNumberError(NidaaError, ValueError):
    """A phone number that is not an Egyptian mobile number."""

    code = "bad_phone"


def normalize(text: str) -> str:
    """Return ``text`` as an E.164 Egyptian mobile number (``+201xxxxxxxxx``).

    Raises :class:`PhoneNumberError` with a clear message otherwise.
    """
    if not isinstance(text, str):
        raise PhoneNumberError(f"a phone number must be text, not {type(text).__name__}")
    raw = _SEPARATORS.sub("", text.translate(_DIGITS))
    if raw.startswith("+"):
        if not raw.startswith("+20"):
            raise _refuse(text, "only Egyptian numbers (+20) can receive SMS from this centre")
        rest = raw[3:]
    elif raw.startswith("0020"):
        rest = raw[4:]
    elif raw.startswith("20") and len(raw) == 12:
        rest = raw[2:]
    elif raw.startswith("0"):
        rest = raw[1:]
    else:
        rest = raw
    if not raw:
        raise _refuse(text, "it is empty")
    if rest and not (rest.isascii() and rest.isdigit()):
        raise _refuse(text, "it may contain only digits, spaces, dashes and a leading +")
    if len(rest) != 10:
        raise _refuse(text, f"a mobile number has 11 digits starting with 01, not {len(rest) + 1}")
    if not _NATIONAL.fullmatch(rest):
        raise _refuse(text, "a mobile number starts with 010, 011, 012 or 015")
    return "+20" + rest


def is_valid(text: str) -> bool:
    try:
        normalize(text)
    except PhoneNumberError:
        return False
    return True


def mask(number: str) -> str:
    """Masked form for logs and bus messages: ``+20 10* *** **89``.

    Accepts any form :func:`normalize` accepts; something that is not a
    valid number is masked entirely rather than echoed.
    """
    try:
        national = normalize(number)[3:]
    except PhoneNumberError:
        return "+20 *** *** ****"
    return f"+20 {national[:2]}* *** **{national[-2:]}"


def _refuse(text: str, why: str) -> PhoneNumberError:
    # The refused text is echoed only in part: it may well be a real number.
    shown = text if len(text) <= 4 else text[:4] + "…"
    return PhoneNumberError(
        f"not an Egyptian mobile number ({shown!r}): {why}; expected e.g. 010 1234 5678"
    )
