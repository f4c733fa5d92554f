"""The people of a chaos run: citizens at the kiosks, clerks, the back office.

Citizens and clerks press the units' buttons through each unit's control
socket (:mod:`appliance.drivers.buttons.sim_pins`), as a finger presses a
real button: a press on a unit that is not running does not happen.

A citizen presses one button and waits for what the kiosk does about it
before anyone presses again at that kiosk, so each press has exactly one
outcome to look for, all of them read from records on disk:

* ``printed`` — a new ticket file in the kiosk's printer folder;
* ``refused`` — the kiosk's buzzer sounded (the journal of its output pins)
  and its status says why (fault LED, ``degraded`` on the bus);
* ``cut`` — the kiosk process that took the press died (``kill -9``) before
  doing either: a power cut, the citizen presses again;
* ``unanswered`` — the same kiosk process stayed alive and did neither within
  :data:`ANSWER_WITHIN` seconds.  This must never happen.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...bus.client import BusClient, new_command_id
from ...config.branch import Config
from ...drivers.buttons.sim_pins import JOURNAL, press
from ...errors import BusError, QueueError
from .chaos_branch import BUZZER_PIN, NEXT_PIN

#: Seconds a live kiosk has to print or refuse: the master's attempts
#: (3 × 1.5 s by default), a frozen unit resumed (≤ 3 s) and a broker restart.
ANSWER_WITHIN = 30.0


@dataclass
class PressRecord:
    kiosk: str
    at: float
    outcome: str = "unanswered"


@dataclass
class People:
    """What every person did, for the invariants."""

    presses: list[PressRecord] = field(default_factory=list)
    presses_to_dead_units: int = 0
    clerk_presses: int = 0
    registered: list[str] = field(default_factory=list)  #: SMS requests not yet ready
    lock: threading.Lock = field(default_factory=threading.Lock)


class _AlarmCount:
    """Times the buzzer switched on, read incrementally from the pin journal,
    and the presses each kiosk process took (``state`` -1, by pid)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL
        self.offset = 0
        self.count = 0
        self.buzzer = f"GPIO{BUZZER_PIN}"
        self.taken: Tally[int] = Tally()

    def __call__(self) -> int:
        with contextlib.suppress(OSError), self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
            data = data[: data.rfind(b"\n") + 1]
            self.offset += len(data)
            for line in data.splitlines():
                with contextlib.suppress(ValueError):
                    r = json.loads(line)
                    self.count += r.get("pin") == self.buzzer and r.get("state") == 1
                    if r.get("state") == -1 and isinstance(r.get("pid"), int):
                        self.taken[r["pid"]] += 1
        return self.count

    def presses_taken(self, pid: int) -> int:
        self()
        return self.taken[pid]


def printed(folder: Path) -> int:
    return len(list((folder / "tickets").glob("ticket-*.bin")))


def citizen(
    kiosk: str, folder: Path, pins: list[int], pid: Callable[[], int | None],
    people: People, halt: threading.Event, rng: random.Random,
) -> None:  # fmt: skip
    """Citizens at one kiosk, one after the other."""
    alarms = _AlarmCount(folder)
    while not halt.is_set():
        before, rang, who = printed(folder), alarms(), pid()
        taken = alarms.taken[who] if who is not None else 0
        at = time.time()
        # A press the kiosk's journal holds was taken, even when the kiosk
        # died before its pin socket said "ok": it is a press (then cut).
        if who is None or not (
            press(folder, rng.choice(pins), hold_ms=60) or alarms.presses_taken(who) > taken
        ):
            if who is not None and printed(folder) > before:
                # The kiosk took the press and printed, then was killed before
                # its pin socket answered the finger: the citizen has paper.
                with people.lock:
                    people.presses.append(PressRecord(kiosk, at, "printed"))
            else:
                with people.lock:
                    people.presses_to_dead_units += 1
            halt.wait(0.3)
            continue
        record = PressRecord(kiosk, at)
        with people.lock:
            people.presses.append(record)
        deadline = time.monotonic() + ANSWER_WITHIN
        while time.monotonic() < deadline:
            if printed(folder) > before:
                record.outcome = "printed"
                break
            if alarms() > rang:
                record.outcome = "refused"
                break
            if pid() != who:
                # Look once more: the kiosk may have answered just before dying.
                record.outcome = (
                    "printed"
                    if printed(folder) > before
                    else "refused"
                    if alarms() > rang
                    else "cut"
                )
                break
            time.sleep(0.05)  # polling files another process writes
        # The buzzer beeps three times after a refusal: let it finish, so the
        # next citizen's refusal is not mistaken for this one's.
        halt.wait(0.9 if record.outcome == "refused" else rng.uniform(0.05, 0.3))


def clerk(folder: Path, people: People, halt: threading.Event, rng: random.Random) -> None:
    """A clerk pressing "next" every 1–3 s (each call finishes the last): a
    busy day hundreds of times faster than real clerks, but no faster than
    the hall display's list of recent calls can take while it restarts."""
    while not halt.wait(rng.uniform(1.0, 3.0)):
        if press(folder, NEXT_PIN, hold_ms=60):
            with people.lock:
                people.clerk_presses += 1


def back_office(
    cfg: Config, broker_url: str, people: People, halt: threading.Event, rng: random.Random
) -> None:
    """Citizens who leave a mobile number; the back office moves their requests on."""
    bus = BusClient(cfg, role="tool", unit="chaos-office", broker_url=broker_url, presence=False)
    bus.start()
    t = bus.topics

    def ask(topic: str, **body: object) -> dict[str, object] | None:
        command = {"id": new_command_id("chaos-office"), **body}
        while not halt.is_set():  # the same command id until the master answers
            try:
                return bus.request(topic, command, timeout=1.5)
            except BusError:
                continue
            except QueueError:
                return None
        return None

    n = 0
    try:
        while not halt.wait(rng.uniform(1.0, 2.5)):
            n += 1
            issued = ask(t.ticket_cmd(bus.sender, "issue"), service=rng.choice(cfg.services).id)
            ticket = issued.get("ticket") if issued else None
            if not isinstance(ticket, dict):
                continue
            ref = f"CH-{n:04d}"
            phone = f"+20100{rng.randrange(10**7):07d}"  # simulated citizens only
            if ask(
                t.request_cmd(bus.sender, "register"), ticket=ticket["number"], phone=phone, ref=ref
            ):
                people.registered.append(ref)
            waiting = people.registered[:-1]  # each request is ready once
            if waiting and rng.random() < 0.7:
                ready = waiting[rng.randrange(len(waiting))]
                people.registered.remove(ready)
                ask(t.request_cmd(bus.sender, "stage"), ref=ready, stage="ready")
    finally:
        bus.stop()
