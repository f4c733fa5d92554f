"""The virtual branch: a private broker, the real master, simulated people.

A whole day (08:00–15:00 Cairo) runs in ``minutes`` real minutes.  Ctrl-C
stops everything and leaves no process behind.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ...bus.client import BusClient, Message
from ...clock import ScaledClock
from ...config.branch import Config, load_config
from ..harness import unthrottled
from ..harness.broker import Mosquitto
from ..harness.outdir import fresh_out
from ..harness.procs import Daemon, stop_all
from ..hooks import DemoContext, DemoOptions
from ..roles import ROLES
from .sim import Tally
from .stats import summarize

log = logging.getLogger(__name__)

OPENING_HOUR = 8
DAY_HOURS = 7


#: The demo staffs its branch so that clerks are busy this share of the day:
#: a centre staffed at 100 % of its mean load has queues that never drain.
TARGET_UTILISATION = 0.75


def staffing(cfg: Config, per_hour: float) -> list[tuple[str, float]]:
    """``(service, counters to add)`` so that every service is staffed for
    ``per_hour`` arrivals (the demo's citizens choose a service with weight
    ``1 / service_minutes``).  A counter serving k services lends 1/k to each."""
    weights = {s.id: 1 / s.service_minutes for s in cfg.services}
    total = sum(weights.values())
    adds: list[tuple[str, float]] = []
    for s in cfg.services:
        busy = per_hour * weights[s.id] / total * s.service_minutes / 60  # counters busy
        have = sum(1 / len(c.services) for c in cfg.counters if s.id in c.services)
        need = math.ceil(busy / TARGET_UTILISATION - have - 1e-9)
        if need > 0:
            adds.append((s.id, need))
    return adds


def _write_demo_config(src: Path, out: Path, broker_url: str, per_hour: float) -> Path:
    text = src.read_text(encoding="utf-8")
    cfg = load_config(src)
    text = text.replace(cfg.broker.url, broker_url) if cfg.broker.url in text else text
    number = max(c.number for c in cfg.counters)
    for sid, n in staffing(cfg, per_hour):
        for _ in range(int(n)):
            number += 1
            text += f'\n[[counters]]\nid = "w{number}"\nnumber = {number}\nservices = ["{sid}"]\n'
    dst = out / "branch.toml"
    dst.write_text(unthrottled(text), encoding="utf-8")
    return dst


def run_demo(options: DemoOptions, stream: TextIO = sys.stdout) -> dict[str, Any]:
    out = fresh_out(options.out)
    cfg = load_config(options.config)
    tz = ZoneInfo(cfg.branch.timezone)
    today = datetime.now(tz).date()
    opening = datetime(today.year, today.month, today.day, OPENING_HOUR, tzinfo=tz)
    speed = DAY_HOURS * 3600 / (options.minutes * 60)
    stopping: list[Any] = []
    tally = Tally()
    roles: list[Any] = []
    with Mosquitto(out / "broker") as broker:
        db = out / "master.db"
        # Everything that starts a process or a thread is inside this try, so
        # that Ctrl-C at any moment stops all that was started.
        try:
            config_path = _write_demo_config(options.config, out, broker.url, options.per_hour)
            cfg = load_config(config_path)
            # Anchor the clock a moment ahead, so the day starts once all is up.
            clock = ScaledClock(opening.timestamp(), speed, anchor=time.time() + 1.5)
            master = Daemon(
                ["master", "--config", str(config_path), "--db", str(db), "--broker", broker.url,
                 "--sim-clock", f"{opening.isoformat()}@{speed}@{clock.anchor}"],
                out / "master.log",
            )  # fmt: skip
            stopping.append(master)
            master.start()
            ctx = DemoContext(options, cfg, config_path, broker.url, clock, out)
            watcher = _LiveView(cfg, broker.url, tally, clock, stream, options.live)
            stopping.append(watcher)
            # Citizens press the real kiosks' buttons (Poisson arrivals); clerks
            # press the real counters' buttons and serve for a random time.
            for sim in ROLES:
                role = sim.demo(ctx)
                if role is not None:
                    roles.append(role)
                    stopping.append(role)
            end = opening + timedelta(hours=DAY_HOURS)
            while clock() < end.timestamp():
                tally.issued = sum(int(getattr(r, "printed", 0)) for r in roles)
                watcher.refresh()
                time.sleep(0.5)
                if not master.alive():
                    raise RuntimeError(f"the master stopped:\n{master.log()[-2000:]}")
        finally:
            for thing in reversed(stopping):
                try:
                    thing.stop()
                except Exception:  # one role's failure must not leave the others running
                    log.exception("stopping %r failed", thing)
            stop_all()  # a daemon whose start was interrupted is stopped too
            # Counted once everything stopped: a ticket printing at the last
            # sample of the loop is on paper too.
            tally.issued = sum(int(getattr(r, "printed", 0)) for r in roles)
            no_paper = sum(int(getattr(r, "issued_without_paper", 0)) for r in roles)
    summary = summarize(db).as_dict()
    from ...tech.report_files import write_report  # Pillow only when a report is made

    write_report(cfg, db, opening.date().isoformat(), out / "report")
    summary.update(
        simulated_day=f"{opening:%Y-%m-%d} {OPENING_HOUR:02d}:00–{OPENING_HOUR + DAY_HOURS:02d}:00",
        speed=round(speed, 1),
        calls_made=tally.calls,
        tickets_printed=tally.issued,
        # Taken at a counter for the citizens who leave a phone number (SMS demo).
        tickets_without_paper=no_paper,
        # Issued, not at a counter, not printed: a kiosk voided it (printer
        # fault) or it was printing when the day stopped.
        tickets_unprinted=summary["tickets"] - tally.issued - no_paper,
        counters=len(cfg.counters),
        output=str(out),
    )
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary


class _LiveView:
    """Waiting per service and the latest calls, redrawn in the terminal."""

    def __init__(
        self, cfg: Config, url: str, tally: Tally, clock: ScaledClock, stream: TextIO, live: bool
    ) -> None:
        self.cfg = cfg
        self.tally = tally
        self.clock = clock
        self.stream = stream
        self.tty = live and stream.isatty()
        self.services: dict[str, dict[str, Any]] = {}
        self.tz = ZoneInfo(cfg.branch.timezone)
        self._last_line = 0.0
        self.bus = BusClient(cfg, role="tool", unit="demo-view", broker_url=url, presence=False)
        self.bus.subscribe(self.bus.topics.all_service_states, self._on_service)
        self.bus.subscribe(self.bus.topics.event("call"), self._on_call)
        self.bus.start()

    def _on_call(self, msg: Message) -> None:
        try:
            body = msg.json()
        except ValueError:
            return
        self.tally.calls += 1
        self.tally.note(f"{body.get('ticket')} → {body.get('window')}")

    def _on_service(self, msg: Message) -> None:
        try:
            body = msg.json()
        except ValueError:
            return
        self.services[str(body.get("service"))] = body

    def refresh(self) -> None:
        now = datetime.fromtimestamp(self.clock(), self.tz)
        waiting = "  ".join(
            f"{s.prefix}:{self.services.get(s.id, {}).get('waiting', 0)}" for s in self.cfg.services
        )
        if self.tty:
            lines = [
                f"Nidaa virtual branch — {self.cfg.branch.name_en}  {now:%H:%M}",
                f"tickets {self.tally.issued}  calls {self.tally.calls}",
                f"waiting  {waiting}",
                "recent calls: " + ", ".join(self.tally.recent[-6:]),
            ]
            self.stream.write("\x1b[2J\x1b[H" + "\n".join(lines) + "\n")
            self.stream.flush()
        elif time.monotonic() - self._last_line > 5:
            self._last_line = time.monotonic()
            print(f"{now:%H:%M} tickets={self.tally.issued} calls={self.tally.calls} waiting {waiting}",
                  file=self.stream, flush=True)  # fmt: skip

    def stop(self) -> None:
        self.bus.stop()
