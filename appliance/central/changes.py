"""What a branch sends the centre, checked before anything is written.

A branch's bridge credential can publish only under its own
``branches/<branch>/`` (the central broker's ACL), and the branch is taken
from the topic, never from the payload.  Within that, a payload is input
like any other: a malformed change is refused whole (and, its number staying
a hole, asked for again).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..queue import TicketState

KINDS = frozenset(
    {"issue", "call", "recall", "serve", "no_show", "transfer", "void", "rating", "backfill"}
)
RATINGS = frozenset({"satisfied", "neutral", "unsatisfied"})
STATES = frozenset(str(s) for s in TicketState)
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
MAX_SEQ = 2**62
#: One change at most; a message of several (``{"changes": [...]}``) at most
#: MAX_CHANGES of them in MAX_BATCH_PAYLOAD bytes.
MAX_PAYLOAD = 16 * 1024
MAX_CHANGES = 64
MAX_BATCH_PAYLOAD = 64 * 1024
#: Times must fall between 2000 and 2200 (epoch seconds).
_TIME_RANGE = (946684800.0, 7258118400.0)


class BadChange(ValueError):
    """A payload that is not a change the centre can take."""


@dataclass(frozen=True)
class Change:
    """One numbered change of one ticket of one branch."""

    seq: int
    kind: str
    at: float
    ticket_id: int
    business_day: str
    number: int
    label: str
    service: str
    priority: bool
    state: str
    issued_at: float
    first_called_at: float | None
    called_at: float | None
    served_at: float | None
    finished_at: float | None
    counter: str | None
    recalls: int
    rating: str | None
    #: The ticket this one continues after a transfer (None: an arrival, or
    #: a master of an earlier release that did not say).
    origin_id: int | None = None
    #: Sent again on the centre's request rather than live.
    replayed: bool = False


def _int(value: Any, what: str, low: int = 0, high: int = MAX_SEQ) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadChange(f"{what} must be a whole number from {low}")
    return value


def _time(value: Any, what: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadChange(f"{what} must be a time in seconds")
    if not _TIME_RANGE[0] <= value <= _TIME_RANGE[1]:
        raise BadChange(f"{what} is out of range")
    return float(value)


def _text(value: Any, what: str, pattern: re.Pattern[str] | None, *, optional: bool = False,
          limit: int = 32) -> str | None:  # fmt: skip
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise BadChange(f"{what} must be text of at most {limit} characters")
    if pattern is not None and not pattern.match(value):
        raise BadChange(f"{what} {value!r} is not an id")
    if any(ord(ch) < 32 for ch in value):
        raise BadChange(f"{what} has control characters")
    return value


def parse_changes(payload: bytes) -> list[Change]:
    """A ``sync/change`` payload → its changes, or :class:`BadChange`.

    A master sends the changes of one commit together,
    ``{"changes": [change, ...], "replay": bool}``; one change alone (a
    branch of an earlier version) is read too.  One malformed change refuses
    the whole message: its numbers stay holes, asked for again."""
    body = _load(payload, MAX_BATCH_PAYLOAD)
    if "changes" not in body:
        return [parse_change(payload)]
    items = body["changes"]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_CHANGES:
        raise BadChange(f"changes must be a list of 1 to {MAX_CHANGES}")
    replayed = body.get("replay") is True
    return [_change(item, replayed) for item in items]


def parse_change(payload: bytes) -> Change:
    """A payload of one change → :class:`Change`, or :class:`BadChange`."""
    body = _load(payload, MAX_PAYLOAD)
    return _change(body, body.get("replay") is True)


def _load(payload: bytes, limit: int) -> dict[str, Any]:
    if len(payload) > limit:
        raise BadChange("payload too large")
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        raise BadChange("not JSON") from None
    if not isinstance(body, dict):
        raise BadChange("not a change object")
    return body


def _change(body: Any, replayed: bool) -> Change:
    if not isinstance(body, dict) or not isinstance(body.get("ticket"), dict):
        raise BadChange("not a change object with a ticket")
    t = body["ticket"]
    kind = body.get("kind")
    if kind not in KINDS:
        raise BadChange(f"unknown kind {kind!r}")
    if t.get("state") not in STATES:
        raise BadChange(f"unknown state {t.get('state')!r}")
    if t.get("rating") is not None and t.get("rating") not in RATINGS:
        raise BadChange("unknown rating")
    if not isinstance(t.get("priority"), bool):
        raise BadChange("priority must be true or false")
    day = _text(t.get("business_day"), "business_day", _DAY, limit=10)
    return Change(
        seq=_int(body.get("seq"), "seq", 1),
        kind=str(kind),
        at=float(_time(body.get("at"), "at") or 0.0),
        ticket_id=_int(t.get("id"), "ticket id", 1),
        business_day=str(day),
        number=_int(t.get("number"), "number", 0, 10**9),
        label=str(_text(t.get("label"), "label", None)),
        service=str(_text(t.get("service"), "service", _ID)),
        priority=bool(t["priority"]),
        state=str(t["state"]),
        issued_at=float(_time(t.get("issued_at"), "issued_at") or 0.0),
        first_called_at=_time(t.get("first_called_at"), "first_called_at", optional=True),
        called_at=_time(t.get("called_at"), "called_at", optional=True),
        served_at=_time(t.get("served_at"), "served_at", optional=True),
        finished_at=_time(t.get("finished_at"), "finished_at", optional=True),
        counter=_text(t.get("counter"), "counter", _ID, optional=True),
        recalls=_int(t.get("recalls"), "recalls", 0, 10**6),
        rating=t.get("rating"),
        origin_id=_origin(t.get("origin_id"), t.get("id")),
        replayed=replayed,
    )


def _origin(value: Any, ticket_id: Any) -> int | None:
    """A transfer's continuation names an earlier ticket of its branch."""
    if value is None:
        return None
    origin = _int(value, "origin_id", 1)
    if not isinstance(ticket_id, int) or origin >= ticket_id:
        raise BadChange("origin_id must name an earlier ticket")
    return origin


def parse_seq(payload: bytes, key: str = "seq") -> int:
    """``{"seq": N}`` (a head) → N, or :class:`BadChange`."""
    try:
        body = json.loads(payload[:4096])
    except (ValueError, RecursionError):
        raise BadChange("not JSON") from None
    if not isinstance(body, dict):
        raise BadChange("not an object")
    return _int(body.get(key), key, 0)
