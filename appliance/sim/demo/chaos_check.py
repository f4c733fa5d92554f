"""The invariants of a chaos run, computed from what is on disk afterwards.

Sources: the master's SQLite file (tickets, applied commands, call events,
SMS stage events), each kiosk's printer folder and log, each counter
display's record, the hall display's calls log, the SMS gateway's outbox and
the simulated modem's record.  Each figure's exact meaning is in
docs/reliability.md (written by :mod:`.reliability`).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections import Counter as Tally
from pathlib import Path
from typing import Any

from ...master.queries import Records
from .chaos_branch import Branch
from .chaos_people import People, printed

PRINTED = re.compile(r"printed ticket (\S+) \(id (\d+)\)")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def invariants(branch: Branch, people: People) -> dict[str, Any]:
    kiosks = [u for u in branch.units.values() if u.role == "kiosk"]
    with Records(branch.db) as records:
        tickets = {
            t.id: (t.business_day, t.label, str(t.state)) for t in records.tickets(arrivals=True)
        }
        kiosk_issued: set[int] = set()
        for k in kiosks:
            kiosk_issued |= records.issued_to(f"{k.name}-")
        calls = records.call_events()
        stages = records.stage_event_ids() if branch.sms else []

    # Tickets: numbers and paper.
    labels = Tally((day, label) for day, label, _ in tickets.values())
    prints = [(m[1], int(m[2])) for k in kiosks for m in PRINTED.finditer(_log(k.folder))]
    printed_ids = Tally(tid for _, tid in prints)
    voided = {tid for tid, (_, _, state) in tickets.items() if state == "voided"}
    lost = [n for n, tid in prints if tid not in tickets or tickets[tid][1] != n]
    presses = Tally(p.outcome for p in people.presses)
    paper = sum(printed(k.folder) for k in kiosks)

    # Calls: every call on its counter's display and on the hall display.
    shown: dict[str, list[dict[str, Any]]] = {}
    for u in branch.units.values():
        if u.role == "counter":
            shown[u.name.removeprefix("cu-")] = _jsonl(u.folder / "display.jsonl")
    hall = _jsonl(branch.units["display"].folder / "calls.jsonl")
    hall_ids = {r.get("id") for r in hall}
    hall_learnt = {(r.get("counter"), r.get("ticket")) for r in hall if not r.get("fresh", True)}
    not_on_counter = [
        c for c in calls if c.get("counter") in shown
        and not any(r.get("text") == c["ticket"] and r["t"] >= c["created"] - 1
                    for r in shown[c["counter"]])
    ]  # fmt: skip
    not_in_hall = [c for c in calls
                   if c["id"] not in hall_ids and (c.get("counter"), c["ticket"]) not in hall_learnt]  # fmt: skip

    result: dict[str, Any] = {
        "tickets_issued": len(tickets),
        "tickets_printed": paper,
        "numbers_duplicated": sum(n - 1 for n in labels.values() if n > 1),
        "tickets_lost": len(lost),
        "presses": len(people.presses),
        "presses_printed": presses["printed"],
        "presses_refused": presses["refused"],
        "presses_cut_by_kill": presses["cut"],
        "presses_to_dead_units": people.presses_to_dead_units,
        "presses_unanswered": presses["unanswered"],
        "presses_answered_twice": max(0, paper - presses["printed"])
        + sum(n - 1 for n in printed_ids.values() if n > 1),
        # Issued to a kiosk, neither printed nor voided: the kiosk died
        # between the master's answer and the paper (see docs/reliability.md).
        "tickets_without_paper": len(kiosk_issued - set(printed_ids) - voided),
        "tickets_voided": len(voided),
        "clerk_presses": people.clerk_presses,
        "calls": len(calls),
        "calls_not_on_counter_display": len(not_on_counter),
        "calls_not_on_hall_display": len(not_in_hall),
    }
    if branch.sms:
        result.update(_sms(branch, stages))
    return result


def _log(folder: Path) -> str:
    path = folder / "log"
    return path.read_text(errors="replace") if path.exists() else ""


def _sms(branch: Branch, stages: list[str]) -> dict[str, Any]:
    folder = branch.units["sms"].folder
    states: dict[str, str] = {}
    resent: set[tuple[str, str]] = set()
    outbox = folder / "outbox.db"
    if outbox.exists():
        with sqlite3.connect(f"file:{outbox}?mode=ro", uri=True) as db:
            for event_id, state in db.execute("SELECT event_id, state FROM messages"):
                states[event_id] = state
            resent = {(_digits(n), t) for n, t in db.execute(
                "SELECT m.number, m.text FROM messages m JOIN parts p ON p.message_id = m.id "
                "GROUP BY m.id HAVING MAX(p.sends) > 1")}  # fmt: skip
    sent = Tally((_digits(r.get("number")), r.get("text")) for r in _jsonl(folder / "sent.jsonl"))
    twice = {k: n - 1 for k, n in sent.items() if n > 1}
    return {
        "sms_stage_events": len(stages),
        "sms_delivered": sum(1 for s in stages if states.get(s) in ("sent", "delivered")),
        "sms_dead_lettered": sum(1 for s in stages if states.get(s) == "dead"),
        "sms_neither_delivered_nor_dead": sum(
            1 for s in stages if states.get(s) not in ("sent", "delivered", "dead")
        ),
        "sms_sent_twice_documented": sum(n for k, n in twice.items() if k in resent),
        "sms_sent_twice_otherwise": sum(n for k, n in twice.items() if k not in resent),
    }


def _digits(number: object) -> str:
    """The subscriber part of a number, however it was written (+20…, 0…)."""
    return "".join(ch for ch in str(number) if ch.isdigit())[-9:]
