"""The security drill's impersonation attempts: a kiosk's password used in
another unit's name.

A command's topic names its sender (``cmd/<unit>/...``) and the broker lets
each account publish only under its own unit id; the master takes the
requester from that level and answers only under the sender's own
``reply/<unit>/``.  Each attempt also tries the layout of the release
before (``cmd/ticket/...`` with ``reply/<client id>``), which named the
requester in the reply topic alone: the broker refuses it now.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ...bus.client import new_command_id
from ..harness.procs import wait_until
from .drill import Attempt, Drill

VICTIM = "k2"
ATTACKER = "k1"
#: Forged requests per topic form in the flood under the victim's name.
FORGED = 200


def _settle(d: Drill) -> str:
    """Once the attacker's own lane has answered, what came before it was
    handled too (the broker drops refused publishes in order)."""
    t = d.topics
    raw = d.raw(ATTACKER)
    try:
        body = json.dumps({"id": new_command_id(ATTACKER)}).encode()
        return raw.ask(t.queue_cmd(ATTACKER, "snapshot"), body, t.reply(ATTACKER, ATTACKER))
    finally:
        raw.close()


Forged = tuple[str, str | None, dict[str, Any]]  # topic, reply topic, body


def _forge(d: Drill, forms: list[Forged], repeat: int = 1) -> None:
    """Publish ``forms`` with the attacker's password, and wait until the
    master has handled whatever of them reached it."""
    raw = d.raw(ATTACKER)
    for _ in range(repeat):
        for topic, reply, body in forms:
            raw.publish(topic, {"id": new_command_id(ATTACKER), **body}, reply)
    time.sleep(0.5)
    raw.close()
    _settle(d)


def _answers_to(d: Drill, unit: str) -> int:
    return len(d.seen_on(d.topics.reply(unit, unit)))


def void_as_other(d: Drill) -> list[Attempt]:
    """4: a kiosk names another kiosk's reply topic to void that kiosk's fresh ticket."""
    t = d.topics
    victim = d.client(VICTIM, "kiosk")
    answers = _answers_to(d, VICTIM)
    ticket = d.ask(victim, t.ticket_cmd(VICTIM, "issue"), service=d.service("w1"))["ticket"]
    # The technician's recording has the victim's own answer before counting.
    wait_until(lambda: _answers_to(d, VICTIM) > answers, 10)
    answers = _answers_to(d, VICTIM)
    body = {"ticket_id": ticket["id"], "reason": "drill"}
    forms: list[Forged] = [
        (t.ticket_cmd(ATTACKER, "void"), t.reply(VICTIM, VICTIM), body),
        (t.ticket_cmd(VICTIM, "void"), t.reply(VICTIM, VICTIM), body),
        (t.legacy_ticket_cmd("void"), t.legacy_reply(VICTIM), body),
    ]
    _forge(d, forms)
    state = d.ticket_state(ticket["id"])
    answered = _answers_to(d, VICTIM) - answers
    held = state == "waiting" and answered == 0
    result = (
        f"{len(forms)} voids of `{VICTIM}`'s fresh ticket (own command topic, `{VICTIM}`'s "
        f"command topic, the previous layout; each with `{VICTIM}`'s reply topic): "
        f"the ticket is {state}; answers on `{VICTIM}`'s reply topic: {answered}"
    )
    return [Attempt(4, "kiosk names another kiosk's reply topic to void its ticket", result, held)]


def other_command_topic(d: Drill) -> list[Attempt]:
    """1: a kiosk publishes on another unit's command topics."""
    t = d.topics
    service = d.service("w1")
    forms: list[Forged] = [
        (t.ticket_cmd(VICTIM, "issue"), t.reply(VICTIM, VICTIM), {"service": service}),
        (t.counter_cmd("counter-w1", "w1", "call-next"), t.reply("counter-w1", "counter-w1"), {}),
        (t.counter_cmd(ATTACKER, "w1", "call-next"), t.reply(ATTACKER, ATTACKER), {}),
        (t.request_cmd("sms1", "ack"), None, {"event": "stage:x"}),
        (t.queue_cmd("tech", "snapshot"), t.reply("tech", ATTACKER), {}),
        (t.legacy_ticket_cmd("issue"), t.legacy_reply(VICTIM), {"service": service}),
    ]
    before = d.waiting()
    calls = len(d.seen_on(t.event("call")))
    _forge(d, forms)
    issued = d.waiting() - before
    called = len(d.seen_on(t.event("call"))) - calls
    held = issued == 0 and called == 0
    result = (
        f"{len(forms)} commands on `{VICTIM}`'s, `counter-w1`'s, `sms1`'s and `tech`'s topics, "
        f"a call-next on its own, and the previous layout: tickets issued {issued}, calls {called}"
    )
    return [Attempt(1, "kiosk publishes on another unit's command topic", result, held)]


def flood_as_other(d: Drill) -> list[Attempt]:
    """5: a kiosk floods ticket requests in another kiosk's name."""
    t = d.topics
    service = d.service("w1")
    body = {"service": service}
    forms: list[Forged] = [
        (t.ticket_cmd(VICTIM, "issue"), t.reply(VICTIM, VICTIM), body),
        (t.ticket_cmd(ATTACKER, "issue"), t.reply(VICTIM, VICTIM), body),
        (t.legacy_ticket_cmd("issue"), t.legacy_reply(VICTIM), body),
    ]
    victim = d.client(VICTIM, "kiosk")
    answers = _answers_to(d, VICTIM)
    before = d.waiting()
    _forge(d, forms, repeat=FORGED)
    forged = d.waiting() - before
    answered = _answers_to(d, VICTIM) - answers
    own = d.ask(victim, t.ticket_cmd(VICTIM, "issue"), service=service)
    got = "issued" if "ticket" in own else f"refused `{own.get('error')}`"
    held = forged == 0 and answered == 0 and got == "issued"
    result = (
        f"{FORGED * len(forms):,} requests in `{VICTIM}`'s name (its command topic, its reply "
        f"topic, the previous layout): tickets issued {forged}, answers on `{VICTIM}`'s reply "
        f"topic {answered}; then `{VICTIM}`'s own request: {got}"
    )
    return [Attempt(5, "kiosk floods under another kiosk's identity", result, held)]


ATTEMPTS = [other_command_topic, void_as_other, flood_as_other]
