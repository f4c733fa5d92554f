"""`nidaa demo --chaos`: the virtual branch under faults, and its invariants.

Every role that can run as a real process does; a supervisor restarts what
dies, as systemd would; an injector kills daemons with SIGKILL, restarts
Mosquitto and freezes units with SIGSTOP while citizens press and clerks
call.  At the end the run checks what the appliance promises: no number
given twice, no ticket lost, every press answered exactly once, every call
seen by the hall, no daemon left dead.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sqlite3
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bus.client import BusClient, Message, new_command_id
from ..config import Config, load_config
from ..errors import BusError, QueueError
from ..testing.broker import Mosquitto
from ..testing.procs import Daemon, wait_until


@dataclass
class ChaosOptions:
    config: Path
    out: Path
    seconds: float = 60.0
    seed: int = 1
    fault_every_s: float = 4.0
    presses_per_s: float = 6.0


@dataclass
class Press:
    """One citizen's press, retried with the same id until answered."""

    id: str
    service: str
    answers: list[str] = field(default_factory=list)  # ticket numbers, one per answer


class ChaosWorld:
    """The processes of a virtual branch, restartable from outside."""

    def __init__(self, cfg: Config, config_path: Path, out: Path) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.out = out
        self.broker = Mosquitto(out / "broker")
        self.daemons: dict[str, Daemon] = {}
        self.frozen: set[str] = set()
        self.lock = threading.Lock()

    def add(self, name: str, args: list[str]) -> Daemon:
        d = Daemon(args, self.out / f"{name}.log")
        self.daemons[name] = d
        return d.start()

    def supervise(self, halt: threading.Event) -> None:
        """Restart dead daemons after a short pause, as systemd's Restart= does."""
        while not halt.wait(0.3):
            with self.lock:
                for name, d in self.daemons.items():
                    if not d.alive() and name not in self.frozen:
                        d.restarts += 1
                        d.start()


def _presser(
    bus: BusClient, presses: list[Press], halt: threading.Event, rate: float, rng: random.Random,
    services: list[str],
) -> None:  # fmt: skip
    topic = bus.topics.ticket_cmd("issue")
    while not halt.is_set():
        press = Press(new_command_id("chaos-kiosk"), rng.choice(services))
        presses.append(press)
        body = {"id": press.id, "service": press.service, "priority": rng.random() < 0.1}
        while True:  # the citizen is still there: the kiosk retries the same press
            try:
                result = bus.request(topic, body, timeout=1.0)
                press.answers.append(str(result["ticket"]["number"]))
                break
            except BusError:
                if halt.is_set() and not bus.connected:
                    break
                continue
            except QueueError:
                break
        halt.wait(rng.expovariate(rate))


def _clerk(
    bus: BusClient, counter: str, calls: list[str], halt: threading.Event, rng: random.Random
) -> None:
    topic = bus.topics.counter_cmd(counter, "call-next")
    while not halt.is_set():
        body = {"id": new_command_id(f"chaos-{counter}")}
        for _ in range(30):
            try:
                result = bus.request(topic, body, timeout=1.0)
                if result.get("ticket"):
                    calls.append(f"call-{result['ticket']['id']}-0")
                break
            except (BusError, QueueError):
                continue
        halt.wait(rng.uniform(0.05, 0.4))


def run_chaos(options: ChaosOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(options.config)
    rng = random.Random(options.seed)
    world = ChaosWorld(cfg, options.config, out)
    world.broker.start()
    db = out / "master.db"
    world.add("master", ["master", "--config", str(options.config), "--db", str(db),
                         "--broker", world.broker.url])  # fmt: skip
    halt, stop_faults, stop_supervisor = threading.Event(), threading.Event(), threading.Event()
    faults: Tally[str] = Tally()
    presses: list[Press] = []
    calls: list[str] = []
    shown: set[str] = set()

    def on_call(msg: Message) -> None:
        with contextlib.suppress(ValueError, KeyError):
            shown.add(str(msg.json()["id"]))

    # The hall's view of calls: a persistent session, as the display keeps.
    hall = BusClient(cfg, role="tool", unit="chaos-hall", broker_url=world.broker.url,
                     presence=False, persistent=True)  # fmt: skip
    hall.subscribe(hall.topics.event("call"), on_call)
    hall.start()
    clients = []
    threads = [threading.Thread(target=world.supervise, args=(stop_supervisor,), daemon=True)]
    for i in range(2):
        bus = BusClient(
            cfg, role="tool", unit=f"chaos-kiosk{i}", broker_url=world.broker.url, presence=False
        )
        clients.append(bus)
        threads.append(threading.Thread(target=_presser, args=(
            bus, presses, halt, options.presses_per_s / 2, random.Random(rng.random()),
            [s.id for s in cfg.services]), daemon=True))  # fmt: skip
    for c in cfg.counters:
        bus = BusClient(
            cfg, role="tool", unit=f"chaos-{c.id}", broker_url=world.broker.url, presence=False
        )
        clients.append(bus)
        threads.append(threading.Thread(target=_clerk, args=(bus, c.id, calls, halt, random.Random(rng.random())),
                                        daemon=True))  # fmt: skip
    for bus in clients:
        bus.start()
    for th in threads:
        th.start()

    def inject() -> None:
        # Every kind of fault in turn, so even a short run sees each one.
        kinds = ["kill", "broker", "freeze", "kill"]
        for n in range(10**6):
            if stop_faults.wait(rng.uniform(0.5, 1.5) * options.fault_every_s):
                return
            kind = kinds[n % len(kinds)]
            name = rng.choice(sorted(world.daemons))
            if kind == "kill":
                world.daemons[name].kill()
                faults[f"kill9_{name}"] += 1
            elif kind == "broker":
                world.broker.restart()
                faults["broker_restart"] += 1
            else:
                with world.lock:
                    world.frozen.add(name)
                world.daemons[name].signal(signal.SIGSTOP)
                stop_faults.wait(rng.uniform(1, 3))
                world.daemons[name].signal(signal.SIGCONT)
                with world.lock:
                    world.frozen.discard(name)
                faults[f"sigstop_{name}"] += 1
            log(f"fault: {kind} {name if kind != 'broker' else 'mosquitto'}")

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    try:
        time.sleep(options.seconds)
    finally:
        stop_faults.set()
        injector.join(10)
        halt.set()
        # Let every press in flight be answered: the supervisor keeps the
        # daemons up while the threads finish their retries.
        for th in threads[1:]:
            th.join(60)
        time.sleep(1.0)
        dead = [n for n, d in world.daemons.items() if not wait_until(d.alive, 5)]
        for bus in clients:
            bus.stop()
        stop_supervisor.set()
        wait_until(lambda: set(calls) <= shown, 10)
        hall.stop()
        for d in world.daemons.values():
            d.stop()
        world.broker.close()
    result = _invariants(db, presses, calls, shown)
    result.update(daemons_left_dead=len(dead), faults_injected=dict(faults),
                  restarts={n: d.restarts for n, d in world.daemons.items()})  # fmt: skip
    (out / "chaos.json").write_text(json.dumps(result, indent=2))
    return result


def _invariants(
    db: Path, presses: list[Press], calls: list[str], shown: set[str]
) -> dict[str, Any]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        issued = conn.execute(
            "SELECT business_day, label FROM tickets WHERE origin_id IS NULL"
        ).fetchall()
        call_events = {r[0] for r in conn.execute("SELECT id FROM events WHERE kind = 'call'")}
    labels = Tally(label for _, label in issued)
    answered = [p for p in presses if p.answers]
    given = Tally(a for p in answered for a in set(p.answers))
    return {
        "presses": len(presses),
        "tickets_issued": len(issued),
        "numbers_duplicated": sum(n - 1 for n in labels.values() if n > 1),
        "tickets_lost": sum(1 for number in given if number not in labels),
        "presses_unanswered": len(presses) - len(answered),
        "presses_answered_twice": sum(1 for p in answered if len(set(p.answers)) > 1)
        + max(0, len(issued) - len(answered)),
        "calls": len(call_events),
        "calls_not_shown": len((call_events | set(calls)) - shown),
    }
