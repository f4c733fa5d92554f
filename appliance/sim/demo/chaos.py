"""`nidaa demo --chaos`: the virtual branch under faults, and its invariants.

Every role runs as a real process on simulated hardware (the branch file of
:mod:`.chaos_branch`): Mosquitto, the master, two kiosks, counter units, the
hall display and the SMS gateway.  A supervisor restarts what dies, as
systemd's ``Restart=`` does.  Citizens, clerks and the back office
(:mod:`.chaos_people`) press and call while an injector, in turn, kills a
daemon with SIGKILL, restarts Mosquitto, freezes a unit (SIGSTOP, then
SIGCONT), takes a kiosk's paper out (and puts it back), makes the modem
answer ``+CMS ERROR`` and pulls the modem's cable (and plugs it back).  At
the end :mod:`.chaos_check` reads the records on disk and counts what the
appliance promises never happens.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...bus.client import BusClient
from ...config.branch import load_config
from ...drivers.buttons.sim_pins import SOCKET
from ...drivers.printer.simulated import STATE_FILE
from ...errors import NidaaError
from ...master.queries import Records
from ..harness.broker import Mosquitto
from ..harness.etcd import EtcdCluster
from ..harness.outdir import fresh_out
from ..harness.procs import Daemon, wait_until
from .chaos_branch import Branch, write_branch
from .chaos_check import invariants
from .chaos_people import People, back_office, citizen, clerk
from .chaos_standby import CANDIDATES, Standby, inject_standby, newest_db, standby_figures

#: Figures that must be zero after a run.
MUST_BE_ZERO = (
    "numbers_duplicated",
    "tickets_lost",
    "presses_unanswered",
    "presses_answered_twice",
    "calls_not_on_counter_display",
    "calls_not_on_hall_display",
    "sms_neither_delivered_nor_dead",
    "sms_sent_twice_otherwise",
    "daemons_left_dead",
)

#: In turn; the quick ones first, so that a short run sees every kind.
FAULT_KINDS = ("kill", "broker", "kill", "modem_error", "kill", "paper", "kill", "unplug", "kill",
               "freeze")  # fmt: skip
#: The first kills take one daemon of each role, in this order.
KILL_ORDER = ("master", "kiosk", "display", "sms", "counter")


@dataclass
class ChaosOptions:
    config: Path
    out: Path
    seconds: float = 60.0
    seed: int = 1
    fault_every_s: float = 4.0
    counters: int = 3
    #: Two master candidates on etcd and two brokers (appliance/sim/demo/chaos_standby.py).
    standby: bool = False


class ChaosWorld:
    """The processes of the run, restartable from outside."""

    def __init__(self, branch: Branch, broker: Mosquitto) -> None:
        self.branch = branch
        self.broker = broker
        self.daemons = {
            name: Daemon(u.args, u.folder / "log", env=u.env) for name, u in branch.units.items()
        }
        self.frozen: set[str] = set()
        self.lock = threading.Lock()

    def pid(self, name: str) -> int | None:
        d = self.daemons[name]
        return d.pid if d.alive() else None

    def supervise(self, halt: threading.Event) -> None:
        """Restart dead daemons, as systemd's Restart= does."""
        while not halt.wait(0.3):
            with self.lock:
                for name, d in self.daemons.items():
                    if not d.alive() and name not in self.frozen:
                        d.restarts += 1
                        d.start()

    def freeze(self, name: str, seconds: float, halt: threading.Event) -> None:
        self.pause(name)
        halt.wait(seconds)
        self.resume(name)

    def pause(self, name: str) -> None:
        """SIGSTOP (the supervisor leaves it alone until :meth:`resume`)."""
        with self.lock:
            self.frozen.add(name)
        self.daemons[name].signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.daemons[name].signal(signal.SIGCONT)
        with self.lock:
            self.frozen.discard(name)


def _inject(
    world: ChaosWorld, options: ChaosOptions, faults: Tally[str], halt: threading.Event,
    rng: random.Random, log: Callable[[str], None],
) -> None:  # fmt: skip
    """Every kind of fault in turn, so even a short run sees each one; the
    daemon killed goes round them all."""
    units = world.branch.units
    names = sorted(units)
    rng.shuffle(names)
    first = [next(n for n in names if units[n].role == r) for r in KILL_ORDER
             if any(units[n].role == r for n in names)]  # fmt: skip
    victims = first + [n for n in names if n not in first]
    kinds = [k for k in FAULT_KINDS if world.branch.sms or k not in ("modem_error", "unplug")]
    kiosks = [n for n, u in units.items() if u.role == "kiosk"]
    kills = 0
    for n in range(10**6):
        if halt.wait(rng.uniform(0.5, 1.5) * options.fault_every_s):
            return
        kind = kinds[n % len(kinds)]
        if kind == "kill":
            name = victims[kills % len(victims)]
            kills += 1
            world.daemons[name].kill()
            faults[f"kill9_{units[name].role}"] += 1
            log(f"fault: kill -9 {name}")
        elif kind == "broker":
            world.broker.restart()
            faults["mosquitto_restart"] += 1
            log("fault: Mosquitto restarted")
        elif kind == "freeze":
            name = rng.choice(victims)
            log(f"fault: SIGSTOP {name}")
            world.freeze(name, rng.uniform(1, 3), halt)
            faults[f"sigstop_{units[name].role}"] += 1
        elif kind == "paper":
            state = units[rng.choice(kiosks)].folder / "tickets" / STATE_FILE
            state.parent.mkdir(parents=True, exist_ok=True)
            state.write_text("paper_out\n")
            log(f"fault: paper out at {state.parent.parent.name}")
            halt.wait(rng.uniform(2, 4))
            state.write_text("ready\n")
            faults["printer_paper_out"] += 1
        else:
            control = units["sms"].folder / "sent.ctl"
            with control.open("a") as f:
                f.write("cms 500 3\n" if kind == "modem_error" else "unplug\n")
            log(f"fault: modem {kind}")
            if kind == "unplug":
                halt.wait(rng.uniform(1, 3))
                with control.open("a") as f:
                    f.write("replug\n")
            faults["modem_cms_error" if kind == "modem_error" else "modem_unplugged"] += 1


def run_chaos(options: ChaosOptions, show: Callable[[str], None] = print) -> dict[str, Any]:
    out = fresh_out(options.out)

    def log(line: str) -> None:  # shown, and kept in the run's folder
        show(line)
        with (out / "chaos.log").open("a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    rng = random.Random(options.seed)
    broker = Mosquitto(out / "broker")
    broker.start()
    sb = None
    if options.standby:
        sb = Standby(EtcdCluster(out / "etcd"), Mosquitto(out / "broker-b"))
        sb.etcd.start()
        sb.second_broker.start()
    branch = write_branch(options.config, out, broker.url, options.counters, sb)
    cfg = load_config(branch.config_path)
    if sb is not None:
        sb.branch_id = cfg.branch.id
    world = ChaosWorld(branch, broker)
    people = People()
    faults: Tally[str] = Tally()
    halt_people, halt_faults, halt_supervisor = (threading.Event() for _ in range(3))
    threads: list[threading.Thread] = []
    started = time.monotonic()
    try:
        world.daemons["master"].start()
        wait_until(branch.db.exists, 30)
        for name, d in world.daemons.items():
            if name != "master":
                d.start()
        pressable = [u for u in branch.units.values() if u.role in ("kiosk", "counter")]
        if not wait_until(lambda: all((u.folder / SOCKET).exists() for u in pressable), 90):
            raise RuntimeError("the units did not start; see the logs in " + str(out / "units"))
        log(f"branch up in {time.monotonic() - started:.1f} s: {', '.join(branch.units)}")
        if sb is not None:  # a tool's tickets for the paused master to commit
            sb.bus = BusClient(cfg, role="tool", unit="chaos-zombie", presence=False)
            sb.bus.start()
            sb.service = cfg.services[0].id
        threads.append(threading.Thread(target=world.supervise, args=(halt_supervisor,)))
        for u in branch.units.values():
            seed = random.Random(rng.random())
            if u.role == "kiosk":
                args: tuple[Any, ...] = (u.name, u.folder, branch.kiosk_buttons[u.name],
                                         lambda n=u.name: world.pid(n), people, halt_people, seed)  # fmt: skip
                threads.append(threading.Thread(target=citizen, args=args))
            elif u.role == "counter":
                threads.append(threading.Thread(target=clerk, args=(u.folder, people, halt_people, seed)))  # fmt: skip
        if branch.sms:
            args = (cfg, broker.url, people, halt_people, random.Random(rng.random()))
            threads.append(threading.Thread(target=back_office, args=args))
        if sb is None:
            threads.append(threading.Thread(
                target=_inject, args=(world, options, faults, halt_faults, rng, log)))  # fmt: skip
        else:
            threads.append(threading.Thread(target=inject_standby, args=(
                world, sb, options.fault_every_s, faults, halt_faults, rng, log, broker)))  # fmt: skip
        for th in threads:
            th.daemon = True
            th.start()
        halt_people.wait(options.seconds)
    finally:
        halt_faults.set()
        if len(threads) > 1:
            threads[-1].join(15)  # the injector: a frozen unit is resumed, paper put back
        halt_people.set()
        for th in threads[1:-1]:
            th.join(ANSWER_GRACE)
        log(f"citizens and clerks done {time.monotonic() - started - options.seconds:.1f} s late")
        # Everything in flight settles: the supervisor keeps daemons up.
        ending = time.monotonic()
        settled = _settle(branch, 30.0)
        log(f"settled in {time.monotonic() - ending:.1f} s after the citizens stopped")
        dead = [n for n, d in world.daemons.items() if not wait_until(d.alive, 5)]
        halt_supervisor.set()
        for d in world.daemons.values():
            d.stop()
        broker.close()
        if sb is not None:
            if sb.bus is not None:
                sb.bus.stop()
            sb.etcd.close()
            sb.second_broker.close()
    if sb is not None:
        branch.db = newest_db([branch.db.parent / f"{u}.db" for u in CANDIDATES])
    result = invariants(branch, people)
    if sb is not None:
        result.update(standby_figures(branch, sb))
    result.update(
        seconds=round(options.seconds, 1),
        settled=settled,
        daemons_left_dead=len(dead),
        faults_injected=dict(sorted(faults.items())),
        restarts={n: d.restarts for n, d in world.daemons.items()},
    )
    (out / "chaos.json").write_text(json.dumps(result, indent=2))
    with (out / "presses.jsonl").open("w") as f:  # each press and its outcome, to look into
        f.writelines(json.dumps(vars(p)) + "\n" for p in people.presses)
    return result


#: Seconds a citizen may still be waiting for their ticket when the run ends.
ANSWER_GRACE = 35.0


def _settle(branch: Branch, timeout: float) -> bool:
    """Wait for the SMS outbox to hold every stage event, none still pending."""
    if not branch.sms:
        return True
    outbox = branch.units["sms"].folder / "outbox.db"

    def done() -> bool:
        try:
            with Records(branch.db) as records:
                stages = set(records.stage_event_ids())
            with sqlite3.connect(f"file:{outbox}?mode=ro", uri=True) as db:
                settled = {r[0] for r in db.execute(
                    "SELECT event_id FROM messages WHERE state IN ('sent', 'delivered', 'dead')")}  # fmt: skip
        except (sqlite3.Error, NidaaError):
            return False
        return stages <= settled

    return wait_until(done, timeout, interval=0.5)
