"""``nidaa bench --day``: a whole busy day through the virtual branch.

:func:`run_day` starts the branch (:mod:`appliance.sim.demo.day`), lets the
citizens and clerks of :mod:`appliance.sim.demo.day_people` take and call
``tickets`` tickets as fast as the branch absorbs them, and returns flat
figures (all prefixed ``day_``):

* ``day_tickets_issued`` (master's database), ``day_tickets_printed``,
  ``day_duplicate_numbers`` and ``day_tickets_not_called`` (both must be 0),
  ``day_calls``, ``day_hall_calls_missed`` (calls no hall frame showed),
  ``day_sms_phones`` and ``day_sms_sent``, ``day_wall_s`` and
  ``day_tickets_per_s``;
* ``day_print_p50_ms``/``p90``/``p99`` (kiosk button edge → last printer
  byte), ``day_counter_p50_ms``… (counter "next" edge → counter display
  ACK), ``day_hall_p50_ms``… ("next" edge → hall display frame);
* ``day_rss_<process>_start_mb`` and ``_end_mb`` for the master, the hall
  display, the SMS gateway, the broker and this harness (the in-process
  kiosks and counters), measured once every unit is up, when half the
  tickets are printed (``_half_mb``: warm-up done; growth after it is what
  would go on day after day) and once the last call was shown;
  ``day_rss_growth_ok`` is 1 when every process ended within
  :func:`rss_bound` of its mid-day size.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
import time
from collections import Counter as Tally
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...bus.client import BusClient, Message, new_command_id
from ...config.branch import load_config
from ...errors import NidaaError
from ...master.queries import Records
from ..demo.day import DAY_SPEED, day_config
from ..demo.day_people import DayPeople
from ..figures import percentile, rss_mb
from ..harness.broker import Mosquitto
from ..harness.procs import Daemon, wait_until

if TYPE_CHECKING:
    from ..hooks import BenchContext

#: The memory bound of a day.  Bounded caches fill in the morning (the hall
#: display's 48 MB of drawn texts, each kiosk's record of its last 256
#: tickets, SQLite's page cache), so the start of the day is no baseline; what must not happen is
#: growth with the number of tickets.  So: at the end of the day every
#: process holds at most 1.1 × what it held at mid-day + 10 MB.
RSS_FACTOR = 1.1
RSS_SLACK_MB = 10.0


def rss_bound(half_mb: float) -> float:
    """The most a process may hold at the end of a day: ``half_mb`` at mid-day."""
    return RSS_FACTOR * half_mb + RSS_SLACK_MB


def bench_day(ctx: BenchContext, tickets: int = 3000, counters: int = 12) -> dict[str, float]:
    """The ``nidaa bench`` hook: a day on its own broker and master (the
    benchmark's master already holds the other measurements' tickets)."""
    return run_day(ctx.config_path, ctx.workdir / "day", tickets=tickets, counters=counters)


def run_day(
    config: Path,
    out: Path | None = None,
    *,
    tickets: int = 3000,
    counters: int = 12,
    kiosks: int = 3,
) -> dict[str, float]:
    from ...clock import ScaledClock
    from ..hooks import DemoContext, DemoOptions
    from ..roles.counter import CounterFleet
    from ..roles.hall import demo_role
    from ..roles.kiosk import KioskDemo
    from ..roles.sms import gateway_daemon

    out = Path(out or tempfile.mkdtemp(prefix="nidaa-day-"))
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):  # a day's figures come from its own database only
        raise NidaaError(f"busy day: {out} is not empty")
    stopping: list[Any] = []
    people = DayPeople(tickets, DAY_SPEED)
    with Mosquitto(out / "broker") as broker:
        path = day_config(config, out, broker.url, counters=counters, kiosks=kiosks)
        cfg = load_config(path)
        master = Daemon(
            [
                "master",
                "--config",
                str(path),
                "--broker",
                broker.url,
                "--db",
                str(out / "master.db"),
            ],
            out / "master.log",
        ).start()
        stopping.append(master)
        options = DemoOptions(config=path, out=out, per_hour=0, live=False)
        ctx = DemoContext(options, cfg, path, broker.url, ScaledClock(time.time(), DAY_SPEED), out)
        status: dict[tuple[str, str], str] = {}
        tool = BusClient(cfg, role="tool", unit="day", broker_url=broker.url, presence=False)
        tool.subscribe(tool.topics.all_status, lambda m: _note_status(tool, m, status))
        tool.start()
        stopping.append(tool)
        try:
            display = demo_role(ctx, recorded_calls=None, calls_log=out / "hall-calls.jsonl")
            stopping.append(display)
            gateway = gateway_daemon(ctx)
            stopping.append(gateway)
            booth = KioskDemo(ctx, per_hour=0, save_tickets=False)
            stopping.append(booth)
            fleet = CounterFleet(ctx)
            stopping.append(fleet)
            _wait_ready(tool, booth, fleet, status, cfg.sms is not None)
            procs = {"master": master.pid, "display": display.pid, "sms_gateway": gateway.pid,
                     "broker": _broker_pid(broker), "units": os.getpid()}  # fmt: skip
            rss_start = {name: rss_mb(pid) for name, pid in procs.items()}
            rss_half: dict[str, float] = {}
            people.at_half = lambda: rss_half.update((n, rss_mb(p)) for n, p in procs.items())
            began = time.monotonic()
            people.run(booth, fleet, tool)
            wall = time.monotonic() - began
            hall = _hall_calls(out / "hall-calls.jsonl", people, display)
            sms = _sms_sent(out, people, gateway)
            rss_end = {name: rss_mb(pid) for name, pid in procs.items()}
        finally:
            for thing in reversed(stopping):
                thing.stop()
    figures = _database(out / "master.db")
    figures.update(
        day_tickets=tickets,
        day_counters=len(cfg.counters),
        day_kiosks=len(cfg.kiosks),
        day_tickets_printed=people.printed,
        day_calls=len(people.called),
        day_press_refusals=people.refusals,
        day_wall_s=round(wall, 1),
        day_tickets_per_s=round(people.printed / wall, 1),
        day_hall_calls_missed=len(people.pressed) - len(hall),
        day_sms_phones=len(people.phones),
        day_sms_phones_late=people.late_phones,
        day_sms_sent=sms[0],
        day_sms_undelivered=sms[1],
    )
    figures.update(_spread("day_print", people.press_to_print))
    figures.update(_spread("day_counter", people.next_to_ack))
    figures.update(_spread("day_hall", hall))
    for name in procs:
        figures[f"day_rss_{name}_start_mb"] = rss_start[name]
        figures[f"day_rss_{name}_half_mb"] = rss_half.get(name, float("nan"))
        figures[f"day_rss_{name}_end_mb"] = rss_end[name]
    figures["day_rss_growth_ok"] = int(
        all(rss_end[n] <= rss_bound(rss_half.get(n, math.nan)) for n in procs)
    )
    return figures


def _note_status(tool: BusClient, msg: Message, status: dict[tuple[str, str], str]) -> None:
    try:
        status[tool.topics.parse_status(msg.topic)] = str(msg.json().get("state"))
    except ValueError:
        return


def _wait_ready(
    tool: BusClient, booth: Any, fleet: Any, status: dict[tuple[str, str], str], sms: bool
) -> None:
    """Every unit up before the first citizen: the day's start is measured then."""

    def master_answers() -> bool:
        try:
            tool.request(
                tool.topics.queue_cmd(tool.sender, "snapshot"),
                {"id": new_command_id("day")},
                timeout=1,
            )
            return True
        except NidaaError:
            return False

    def roles_up() -> bool:
        up = {role for (role, _), state in status.items() if state in ("online", "degraded")}
        return {"display", *(["sms-gateway"] if sms else [])} <= up

    checks = {
        "master": master_answers,
        "kiosks": lambda: all(d.master_online for _, d, _ in booth.kiosks),
        "counters": lambda: all(
            d.keeper is not None and d.keeper.acked and d.view().text != d.unit.display.offline_text
            for d in fleet.daemons
        ),
        "display and SMS gateway": roles_up,
    }
    for what, check in checks.items():
        if not wait_until(check, 60):
            raise NidaaError(f"busy day: the {what} did not come up")


def _hall_calls(log: Path, people: DayPeople, display: Daemon) -> list[float]:
    """Press → hall frame of every call the hall display showed."""

    def drawn() -> dict[str, float]:
        if not log.exists():
            return {}
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return {
            r["ticket"]: float(r["drawn"])
            for r in rows
            if r.get("recall") == 0 and r.get("fresh", True)
        }

    # Calls reach the screen in order: once the last one is drawn, every
    # earlier one was drawn or pushed off the list unseen.
    last = max(people.pressed, key=people.pressed.__getitem__, default="")
    wait_until(lambda: last in drawn() or not display.alive(), 30)
    shown = drawn()
    return [shown[n] - at for n, at in people.pressed.items() if n in shown]


def _sms_sent(out: Path, people: DayPeople, gateway: Daemon) -> tuple[int, int]:
    """(SMS the simulated modem sent, messages still pending or dead in the
    gateway's outbox) once the outbox is empty (or after a minute)."""
    record, outbox = out / "sms.jsonl", out / "sms-outbox.db"

    def sent() -> int:
        return len(record.read_text().splitlines()) if record.exists() else 0

    def undelivered() -> int:
        if not outbox.exists():
            return 0
        with sqlite3.connect(f"file:{outbox}?mode=ro", uri=True) as con:
            n = con.execute(
                "SELECT COUNT(*) FROM messages WHERE state IN ('pending', 'dead')"
            ).fetchone()[0]
        con.close()
        return int(n)

    # Each phone gets "issued" at least ("called" too when registered before the call).
    wait_until(
        lambda: (sent() >= len(people.phones) and not undelivered()) or not gateway.alive(), 60
    )
    return sent(), undelivered()


def _database(db: Path) -> dict[str, float]:
    with Records(db) as records:
        arrivals = records.tickets(arrivals=True)
    labels = Tally(t.label for t in arrivals)
    return {
        "day_tickets_issued": len(arrivals),
        "day_duplicate_numbers": sum(1 for n in labels.values() if n > 1),
        "day_tickets_not_called": sum(1 for t in arrivals if t.first_called_at is None),
        "day_priority_tickets": sum(1 for t in arrivals if t.priority),
    }


def _spread(name: str, seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {f"{name}_{q}_ms": float("nan") for q in ("p50", "p90", "p99")}
    return {f"{name}_p{q}_ms": round(percentile(seconds, q) * 1000, 1) for q in (50, 90, 99)}


def _broker_pid(broker: Mosquitto) -> int:
    assert broker.proc is not None
    return broker.proc.pid
