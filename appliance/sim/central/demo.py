"""`nidaa demo --branches N --central`: many branches, one centre, faults.

N virtual branches work (each its own Mosquitto, master and simulated
kiosk and clerks); meanwhile the run cuts some branches' links for tens of
seconds (one of them with a bridge queue small enough to overflow), kills
and restarts the central consumer, and restarts PostgreSQL.  Then it waits
for the centre to converge and compares every branch's database with the
central copy.
"""

from __future__ import annotations

import csv
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...central.web.accounts import hash_password
from .probe import branches_shown, login
from .site import CentralSite, branch_ids
from .traffic import Traffic

#: Messages the overflowing branch's broker queues for its bridge at most.
SMALL_QUEUE = 20
#: The demo dashboard's login name (its password is new at every run).
DEMO_USER = "demo"


@dataclass
class CentralDemoOptions:
    out: Path
    branches: int = 3
    seconds: float = 90.0
    #: Seconds between two tickets of a branch (and between two clerk presses).
    every_s: float = 1.0
    #: Branches whose link is cut (at least one).
    cuts: int = 1
    cut_s: float = 20.0
    restart_postgres: bool = True
    seed: int = 1
    converge_s: float = 90.0


def run_central_demo(opts: CentralDemoOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    ids = branch_ids(opts.branches)
    cut = ids[: max(1, min(opts.cuts, len(ids)))]
    password = secrets.token_urlsafe(9)
    users = {DEMO_USER: hash_password(password)}
    with CentralSite(opts.out, ids, max_queued={cut[0]: SMALL_QUEUE}, dashboard_users=users) as site:
        log(f"{len(ids)} branches bridged to the centre; PostgreSQL on port {site.pg.port}"
            if site.pg else "")  # fmt: skip
        log(f"dashboard: {site.dashboard_url}  (login {DEMO_USER!r}, password {password!r})")
        session = _first_login(site.dashboard_url, password)
        traffic = [
            Traffic(b.config, b.broker.url, opts.every_s, opts.seed * 1000 + i)
            for i, b in enumerate(site.branches.values())
        ]
        for t in traffic:
            t.start()
        halt = threading.Event()
        faults = threading.Thread(target=_faults, args=(site, opts, cut, halt, log), daemon=True)
        faults.start()
        try:
            halt.wait(opts.seconds)
        finally:
            halt.set()
            faults.join(opts.cut_s + 30)
            for t in traffic:
                t.stop()
        log("traffic stopped; waiting for the centre to converge")
        started = time.monotonic()
        converged = site.converged(opts.converge_s)
        figures = site.compare()
        resyncs = site.query("SELECT COALESCE(sum(resyncs), 0) FROM branches")[0][0]
        lag = site.query(
            "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY"
            " extract(epoch FROM received_at - at)) FROM events WHERE NOT replayed"
        )[0][0]
        _write_csv(site, opts.out / "central-tickets.csv")
        # The login of the run's start, kept through the consumer's restart.
        shown = branches_shown(site.dashboard_url, session) if session else None
        return {
            "branches": len(ids),
            **figures,
            "link_cuts": sum(b.link.cuts for b in site.branches.values()),
            "bridge_queue_overflows": sum(
                (b.broker.workdir / "mosquitto.log").read_text(errors="replace").count(
                    "Outgoing messages are being dropped"
                )
                for b in site.branches.values()
            ),
            "resyncs": int(resyncs),
            "central_lag_p99_s": None if lag is None else round(float(lag), 3),
            "converged": converged,
            "converge_s": round(time.monotonic() - started, 1),
            "tickets_issued_by_units": sum(t.issued for t in traffic),
            "dashboard_url": site.dashboard_url,
            "dashboard_user": DEMO_USER,
            "dashboard_session_kept": shown is not None,
            "dashboard_branches_shown": len(shown or []),
            "output": str(opts.out),
        }


def _first_login(url: str, password: str, timeout: float = 30.0) -> str:
    """Log in once the dashboard answers (the consumer is still starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            session = login(url, DEMO_USER, password)
        except OSError:
            session = ""
        if session:
            return session
        time.sleep(0.3)
    return ""


def _faults(site: CentralSite, opts: CentralDemoOptions, cut: list[str],
            halt: threading.Event, log: Callable[[str], None]) -> None:  # fmt: skip
    s = opts.seconds
    cut_s = min(opts.cut_s, 0.4 * s)
    if halt.wait(0.15 * s):
        return
    log(f"cutting the link of {', '.join(cut)} for {cut_s:.0f} s "
        f"({cut[0]}'s bridge queue holds {SMALL_QUEUE} messages: it overflows)")  # fmt: skip
    for bid in cut:
        site.branches[bid].link.cut()
    halt.wait(cut_s)
    for bid in cut:
        site.branches[bid].link.restore()
    log("links restored")
    if halt.wait(max(0.0, 0.6 * s - 0.15 * s - cut_s)):
        return
    log("killing the central consumer (kill -9) and starting it again")
    for c in site.consumers:
        c.kill()
        c.start()
    if opts.restart_postgres and not halt.wait(0.1 * s) and site.pg is not None:
        log("restarting PostgreSQL")
        site.pg.restart()


def _write_csv(site: CentralSite, path: Path) -> None:
    rows = site.query(
        "SELECT branch, business_day, ticket_id, number, service, state FROM tickets"
        " ORDER BY branch, ticket_id"
    )
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["branch", "business_day", "ticket_id", "number", "service", "state"])
        for r in rows:
            w.writerow([r[0], r[1].isoformat(), *r[2:]])

