"""Helpers shared by the test suite, `nidaa demo` and `nidaa bench`."""

import re


def unthrottled(text: str) -> str:
    """A branch file's text with the master's per-kiosk ticket limit off.

    Simulated citizens and benchmark clients take tickets far faster than a
    kiosk's printer can (that is their job); the limit is tried by the
    security drill and the tests, not by a run measuring speed.
    """
    text = re.sub(r"(?m)^tickets_per_minute = \d+\n", "", text)
    if not re.search(r"(?m)^\[master\]$", text):
        return text + "\n[master]\ntickets_per_minute = 0\n"
    return re.sub(r"(?m)^\[master\]$", "[master]\ntickets_per_minute = 0", text, count=1)
