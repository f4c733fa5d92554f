"""The master's commands: argument validation and their effect on the engine.

Each command is one entry in :data:`COMMANDS`, keyed by its topic group and
action.  Its handler validates nothing itself: :func:`parse_args` checks the
payload against the command's declared arguments first, so a malformed
command is refused before the engine is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import QueueError
from ..queue import QueueEngine, Ticket
from .views import Views

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200


@dataclass
class Outcome:
    """What a command produced: the answer and the events to publish."""

    result: dict[str, Any]
    calls: list[Ticket] = field(default_factory=list)


Handler = Callable[[QueueEngine, Views, dict[str, Any], str | None, float], Outcome]


@dataclass(frozen=True)
class Command:
    handler: Handler
    args: dict[str, tuple[type, bool]]  # name -> (type, required)
    mutates: bool = True
    needs_counter: bool = False


def _issue(e: QueueEngine, v: Views, a: dict[str, Any], _c: str | None, now: float) -> Outcome:
    t = e.issue(a["service"], bool(a.get("priority", False)), now)
    est = e.estimate_for(t.id)
    minutes = None if est.minutes is None else round(est.minutes, 1)
    return Outcome(
        {"ticket": v.ticket(t), "estimate": {"people_ahead": est.people_ahead, "minutes": minutes}}
    )


def _void(e: QueueEngine, v: Views, a: dict[str, Any], _c: str | None, now: float) -> Outcome:
    return Outcome({"ticket": v.ticket(e.void(a["ticket_id"], a["reason"], now))})


def _call_next(e: QueueEngine, v: Views, _a: dict[str, Any], c: str | None, now: float) -> Outcome:
    assert c is not None
    called, finished = e.call_next(c, now)
    return Outcome(
        {"ticket": v.ticket(called), "finished": v.ticket(finished)},
        calls=[called] if called is not None else [],
    )


def _recall(e: QueueEngine, v: Views, _a: dict[str, Any], c: str | None, now: float) -> Outcome:
    assert c is not None
    t = e.recall(c, now)
    return Outcome({"ticket": v.ticket(t)}, calls=[t] if t.state == "called" else [])


def _simple(method: str) -> Handler:
    def handler(e: QueueEngine, v: Views, _a: dict[str, Any], c: str | None, now: float) -> Outcome:
        assert c is not None
        return Outcome({"ticket": v.ticket(getattr(e, method)(c, now))})

    return handler


def _transfer(e: QueueEngine, v: Views, a: dict[str, Any], c: str | None, now: float) -> Outcome:
    assert c is not None
    return Outcome({"ticket": v.ticket(e.transfer(c, a["service"], now))})


def _pause_resume(method: str) -> Handler:
    def handler(e: QueueEngine, v: Views, _a: dict[str, Any], c: str | None, now: float) -> Outcome:
        assert c is not None
        getattr(e, method)(c, now)
        return Outcome({"counter": v.counter(c)})

    return handler


def _feedback(e: QueueEngine, v: Views, a: dict[str, Any], c: str | None, now: float) -> Outcome:
    t = e.feedback(a["ticket_id"], a["rating"], now)
    if c is not None and t.counter != c:
        raise QueueError("unknown_ticket", f"ticket {t.label} was not served at counter {c}")
    return Outcome({"ticket": v.ticket(t)})


def _snapshot(e: QueueEngine, v: Views, _a: dict[str, Any], _c: str | None, _now: float) -> Outcome:
    return Outcome(v.snapshot())


COMMANDS: dict[tuple[str, str], Command] = {
    ("ticket", "issue"): Command(_issue, {"service": (str, True), "priority": (bool, False)}),
    ("ticket", "void"): Command(_void, {"ticket_id": (int, True), "reason": (str, True)}),
    ("counter", "call-next"): Command(_call_next, {}, needs_counter=True),
    ("counter", "recall"): Command(_recall, {}, needs_counter=True),
    ("counter", "no-show"): Command(_simple("no_show"), {}, needs_counter=True),
    ("counter", "done"): Command(_simple("done"), {}, needs_counter=True),
    ("counter", "transfer"): Command(_transfer, {"service": (str, True)}, needs_counter=True),
    ("counter", "pause"): Command(_pause_resume("pause"), {}, needs_counter=True),
    ("counter", "resume"): Command(_pause_resume("resume"), {}, needs_counter=True),
    ("counter", "feedback"): Command(
        _feedback, {"ticket_id": (int, True), "rating": (str, True)}, needs_counter=True
    ),
    ("queue", "snapshot"): Command(_snapshot, {}, mutates=False),
}


def parse_args(command: Command, payload: dict[str, Any]) -> dict[str, Any]:
    """Check a payload against the command's arguments; ``QueueError`` if bad."""
    args: dict[str, Any] = {}
    for name, (kind, required) in command.args.items():
        if name not in payload:
            if required:
                raise QueueError("bad_request", f"missing argument {name!r}")
            continue
        value = payload[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise QueueError("bad_request", f"{name!r} must be an integer")
        if kind is not int and not isinstance(value, kind):
            raise QueueError("bad_request", f"{name!r} must be a {kind.__name__}")
        if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
            raise QueueError("bad_request", f"{name!r} is too long")
        args[name] = value
    return args


def command_id(payload: dict[str, Any]) -> str:
    cid = payload.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise QueueError(
            "bad_request", "a command needs a non-empty string 'id' chosen by the sender"
        )
    if len(cid) > MAX_ID_LENGTH:
        raise QueueError("bad_request", f"command id longer than {MAX_ID_LENGTH} characters")
    return cid
