"""`nidaa demo --chaos --standby`: the chaos run with a standby master.

Two master candidates (``master`` and ``master-b``, each with its own
database), a three-member etcd cluster and a broker on each candidate's Pi
(``broker.url`` and ``broker.fallback_urls``).  Beside today's faults the
injector kills the active master (kill -9), pauses it longer than its lease
(SIGSTOP, then SIGCONT: it must not issue again), kills an etcd member (and
starts it again), and takes the active master's whole Pi away: its master
and its broker.  After each fault on the active master it measures the
takeover: from the fault to the first ticket printed that the new master
issued.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import signal
import sqlite3
import statistics
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...bus.client import new_command_id
from ...errors import BusError, NidaaError, QueueError
from ...master.etcd import Etcd, EtcdUnavailable
from ..harness.broker import Mosquitto
from ..harness.etcd import EtcdCluster
from ..harness.procs import wait_until
from .chaos_branch import Branch

#: The candidates' unit ids; the first is ``master.unit``.
CANDIDATES = ("master", "master-b")
LEASE_S = 2.0
#: In turn; a short run sees each standby fault once.
STANDBY_FAULTS = ("kill_active", "etcd_member", "freeze_active", "kill", "pi_lost", "broker")
PRINTED = re.compile(r"printed ticket (\S+) \(id (\d+)\)")


@dataclass
class Standby:
    """The standby parts of a chaos run."""

    etcd: EtcdCluster
    second_broker: Mosquitto
    branch_id: str = ""
    bus: Any = None  #: a tool's bus client (:meth:`ask`), once the branch is up
    service: str = ""
    takeovers_s: list[float] = field(default_factory=list)
    takeover_max_by_fault: dict[str, float] = field(default_factory=dict)
    missed: int = 0  #: takeovers with no ticket printed within the wait

    def ask(self) -> None:
        """A ticket for a tool (as the back office takes), answered by whichever
        master serves, in the background."""

        def send() -> None:
            body = {"id": new_command_id("chaos-zombie"), "service": self.service}
            for _ in range(20):  # the same id until a master answers
                try:
                    self.bus.request(self.bus.topics.ticket_cmd(self.bus.sender, "issue"), body,
                                     timeout=2.0)  # fmt: skip
                    return
                except BusError:
                    continue
                except QueueError:
                    return

        threading.Thread(target=send, daemon=True).start()

    def ha_section(self) -> dict[str, Any]:
        return {"endpoints": self.etcd.endpoints, "candidates": list(CANDIDATES),
                "lease_s": LEASE_S, "request_timeout_s": 3.0}  # fmt: skip

    def leader(self, skip: int | None = None) -> str | None:
        """The active master's unit id (asking every member but ``skip``)."""
        client = Etcd([u for i, u in enumerate(self.etcd.endpoints) if i != skip], timeout_s=2.0)
        try:
            kv = client.get(f"/nidaa/{self.branch_id}/leader".encode())
        except EtcdUnavailable:
            return None
        finally:
            client.close()
        unit = json.loads(kv.value).get("unit") if kv else None
        return unit if isinstance(unit, str) else None


def newest_db(dbs: list[Path]) -> Path:
    """The candidate database holding the most of the log (both, once settled)."""

    def position(db: Path) -> int:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT seq FROM ha_position").fetchone()
        except sqlite3.Error:
            return -1
        return int(row[0]) if row else 0

    return max(dbs, key=position)


def _printed_after(branch: Branch, dbs: list[Path], since_wall: float) -> bool:
    """Whether a kiosk printed a ticket issued after ``since_wall``."""
    ids = set()
    for u in branch.units.values():
        log = u.folder / "log"
        if u.role == "kiosk" and log.exists():
            ids |= {int(m[2]) for m in PRINTED.finditer(log.read_text(errors="replace"))}
    if not ids:
        return False
    marks = ",".join(str(i) for i in ids)
    for db in dbs:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row = conn.execute(
                    f"SELECT 1 FROM tickets WHERE id IN ({marks}) AND issued_at > ?", (since_wall,)
                ).fetchone()
        except sqlite3.Error:
            continue
        if row:
            return True
    return False


def measure_takeover(
    branch: Branch, sb: Standby, since_wall: float, since: float, halt: threading.Event,
    fault: str,
) -> None:  # fmt: skip
    dbs = [branch.db.parent / f"{u}.db" for u in CANDIDATES]
    while not halt.wait(0.1):
        if _printed_after(branch, dbs, since_wall):
            took = time.monotonic() - since
            sb.takeovers_s.append(took)
            sb.takeover_max_by_fault[fault] = max(took, sb.takeover_max_by_fault.get(fault, 0.0))
            return
        if time.monotonic() - since > 30:
            sb.missed += 1
            return
    # The run ended first: not measured.


def inject_standby(
    world: Any, sb: Standby, fault_every_s: float, faults: Tally[str], halt: threading.Event,
    rng: random.Random, log: Callable[[str], None], broker: Mosquitto,
) -> None:  # fmt: skip
    """The standby faults in turn with some of today's (``world`` is the run's ChaosWorld)."""
    branch = world.branch
    others = [n for n, u in branch.units.items() if u.role not in ("master",)]
    for n in range(10**6):
        if halt.wait(rng.uniform(0.5, 1.5) * fault_every_s):
            return
        kind = STANDBY_FAULTS[n % len(STANDBY_FAULTS)]
        active = sb.leader()
        if kind in ("kill_active", "freeze_active", "pi_lost") and active is None:
            kind = "etcd_member"
        since_wall, since = time.time(), time.monotonic()
        if kind == "kill_active":
            assert active is not None
            world.daemons[active].kill()
            log(f"fault: kill -9 the active master {active}")
        elif kind == "freeze_active":
            assert active is not None
            log(f"fault: SIGSTOP the active master {active} past its lease, a commit in flight")
            if freeze_mid_commit(world, sb, active, halt, log):
                since_wall, since = time.time(), time.monotonic()  # from the pause
            else:
                log("  no commit caught in flight: a plain pause")
                threading.Thread(
                    target=world.freeze, args=(active, LEASE_S + 3, halt), daemon=True
                ).start()
        elif kind == "pi_lost":
            assert active is not None
            log(f"fault: the active master's Pi is gone ({active} and its broker)")
            if active == CANDIDATES[0]:
                broker.stop(kill=True)
            else:
                sb.second_broker.stop(kill=True)
            world.daemons[active].kill()
        elif kind == "etcd_member":
            index = rng.randrange(len(sb.etcd.members))
            sb.etcd.kill_member(index)
            log(f"fault: etcd member {index + 1} killed")
            halt.wait(rng.uniform(2, 4))
            sb.etcd.start_member(index)
        elif kind == "broker":
            broker.restart()
            log("fault: Mosquitto restarted")
        elif kind == "kill":
            name = rng.choice(others)
            world.daemons[name].kill()
            log(f"fault: kill -9 {name}")
        faults[kind] += 1
        if kind in ("kill_active", "freeze_active", "pi_lost"):
            measure_takeover(branch, sb, since_wall, since, halt, kind)
            log(f"  takeover: {sb.takeovers_s[-1]:.1f} s" if sb.takeovers_s else "  no takeover")
        if kind == "pi_lost":
            halt.wait(rng.uniform(2, 4))  # the Pi comes back: its broker first
            for b in (broker, sb.second_broker):
                if b.proc is None:
                    b.start()


#: Bytes of a commit's etcd request (its log entry): more than any poll or renewal.
COMMIT_BYTES = 1000


def freeze_mid_commit(
    world: Any, sb: Standby, active: str, halt: threading.Event, log: Callable[[str], None]
) -> bool:
    """SIGSTOP the active master while one of its commits waits on an etcd
    member that hangs (SIGSTOP of that member), and keep it stopped past its
    lease.  The member comes back while the master still sleeps, and etcd
    refuses the entry (another master leads by then): the refusal waits in the
    sleeping master's socket, and the master finds it on SIGCONT.  A command
    is sent for it to commit (a tool's ticket, as the back office takes).
    False when none of its commits went to a hanging member."""
    etcd = sb.etcd
    if not all(m.running for m in etcd.members) or (leader := etcd.leader_index()) is None:
        return False
    # The master sends to the member that answered it last; a follower is the
    # one to hang (the leader's hang would bring an election first).
    # Twice round: a command may find the master busy, or on the other broker a moment.
    for i in 2 * ([m for m in range(len(etcd.members)) if m != leader] + [leader]):
        if i == etcd.leader_index():
            with contextlib.suppress(NidaaError):  # a plain hang of the leader then
                etcd.move_leader(next(m for m in range(len(etcd.members)) if m != i))
        etcd.signal_member(i, signal.SIGSTOP)
        sb.ask()
        if wait_until(lambda i=i: etcd.unread(i) >= COMMIT_BYTES, 1.0, 0.01):
            break
        etcd.signal_member(i, signal.SIGCONT)
    else:
        return False
    world.pause(active)
    log(f"  a commit of {active} waits on etcd member {i + 1} ({etcd.unread(i)} bytes)")
    threading.Thread(target=_wake, args=(world, sb, active, i, halt, log), daemon=True).start()
    return True


def _wake(
    world: Any, sb: Standby, active: str, i: int, halt: threading.Event,
    log: Callable[[str], None],
) -> None:  # fmt: skip
    """Past the paused master's lease (another candidate leads), the hanging
    member answers; then the master wakes."""
    etcd = sb.etcd
    try:
        wait_until(lambda: halt.is_set() or sb.leader(skip=i) not in (None, active), 15, 0.1)
        halt.wait(0.5)
    finally:
        etcd.signal_member(i, signal.SIGCONT)
    try:
        wait_until(lambda: etcd.unread(i) == 0 and etcd.answers_waiting(i) > 0, 5, 0.05)
        halt.wait(0.5)  # every answer of the member written
        log(f"  etcd member {i + 1} answered ({etcd.answers_waiting(i)} bytes wait); SIGCONT")
    finally:
        world.resume(active)


def standby_figures(branch: Branch, sb: Standby) -> dict[str, Any]:
    """Failovers, zombie commits refused and takeover times (from the masters' logs
    and the injector's measures): ``takeover_*_s`` from the fault on the active
    master to the first ticket printed that the new master issued."""
    logs = ""
    for u in CANDIDATES:
        path = branch.units[u].folder / "log"
        logs += path.read_text(errors="replace") if path.exists() else ""
    claims = logs.count(" is the active master (fencing token")
    times = sorted(sb.takeovers_s)
    return {
        "failovers": max(0, claims - 1),
        # A master paused past its lease: its commit refused by etcd (fenced), or
        # its lease found expired first; either way it never acknowledged again.
        "zombie_commits_refused": logs.count("commit refused by etcd: fenced"),
        "paused_masters_stepped_down": logs.count("steps down: lease expired"),
        "takeovers_measured": len(times),
        "takeovers_without_a_ticket": sb.missed,
        "takeover_max_s": round(max(times), 2) if times else None,
        "takeover_p50_s": round(statistics.median(times), 2) if times else None,
        "takeover_max_s_by_fault": {
            f: round(t, 2) for f, t in sorted(sb.takeover_max_by_fault.items())
        },
    }
