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


@dataclass(frozen=True)
class Call:
    """One command as its handler sees it."""

    engine: QueueEngine
    views: Views
    args: dict[str, Any]
    counter: str | None
    now: float
    command_id: str = ""


@dataclass
class Outcome:
    """What a command produced: the answer and the events to publish."""

    result: dict[str, Any]
    calls: list[Ticket] = field(default_factory=list)


Handler = Callable[[Call], Outcome]


@dataclass(frozen=True)
class Command:
    handler: Handler
    args: dict[str, tuple[type, bool]]  # name -> (type, required); ``object``: any JSON
    mutates: bool = True
    needs_counter: bool = False
    #: Sent without an id and without a reply topic (the gateway's stage
    #: acknowledgements): applied every time, recorded nowhere, never answered.
    answerless: bool = False


def _issue(c: Call) -> Outcome:
    t = c.engine.issue(c.args["service"], bool(c.args.get("priority", False)), c.now)
    est = c.engine.estimate_for(t.id)
    minutes = None if est.minutes is None else round(est.minutes, 1)
    return Outcome(
        {
            "ticket": c.views.ticket(t),
            "estimate": {"people_ahead": est.people_ahead, "minutes": minutes},
        }
    )


def _void(c: Call) -> Outcome:
    return Outcome(
        {"ticket": c.views.ticket(c.engine.void(c.args["ticket_id"], c.args["reason"], c.now))}
    )


def _call_next(c: Call) -> Outcome:
    assert c.counter is not None
    called, finished = c.engine.call_next(c.counter, c.now)
    return Outcome(
        {"ticket": c.views.ticket(called), "finished": c.views.ticket(finished)},
        calls=[called] if called is not None else [],
    )


def _recall(c: Call) -> Outcome:
    assert c.counter is not None
    t = c.engine.recall(c.counter, c.now)
    return Outcome({"ticket": c.views.ticket(t)}, calls=[t] if t.state == "called" else [])


def _simple(method: str) -> Handler:
    def handler(c: Call) -> Outcome:
        assert c.counter is not None
        return Outcome({"ticket": c.views.ticket(getattr(c.engine, method)(c.counter, c.now))})

    return handler


def _transfer(c: Call) -> Outcome:
    assert c.counter is not None
    return Outcome(
        {"ticket": c.views.ticket(c.engine.transfer(c.counter, c.args["service"], c.now))}
    )


def _pause_resume(method: str) -> Handler:
    def handler(c: Call) -> Outcome:
        assert c.counter is not None
        getattr(c.engine, method)(c.counter, c.now)
        return Outcome({"counter": c.views.counter(c.counter)})

    return handler


def _feedback(c: Call) -> Outcome:
    t = c.engine.feedback(c.args["ticket_id"], c.args["rating"], c.now)
    if c.counter is not None and t.counter != c.counter:
        raise QueueError(
            "unknown_ticket", f"ticket {t.label} was not served at counter {c.counter}"
        )
    return Outcome({"ticket": c.views.ticket(t)})


def _snapshot(c: Call) -> Outcome:
    return Outcome(c.views.snapshot())


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
        if kind is not int and kind is not object and not isinstance(value, kind):
            raise QueueError("bad_request", f"{name!r} must be a {kind.__name__}")
        if isinstance(value, str):
            check_text(name, value)
        args[name] = value
    return args


def check_text(name: str, value: str) -> None:
    """A string argument the database and every client can take."""
    if len(value) > MAX_TEXT_LENGTH:
        raise QueueError("bad_request", f"{name!r} is too long")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: valid JSON, not valid text
        raise QueueError("bad_request", f"{name!r} is not valid Unicode text") from None


def command_id(payload: dict[str, Any]) -> str:
    cid = payload.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise QueueError(
            "bad_request", "a command needs a non-empty string 'id' chosen by the sender"
        )
    if len(cid) > MAX_ID_LENGTH:
        raise QueueError("bad_request", f"command id longer than {MAX_ID_LENGTH} characters")
    check_text("id", cid)
    return cid
