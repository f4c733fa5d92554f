"""Technician commands that talk to the master: tickets, counters, queue, status."""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from ..bus.client import Message
from ..errors import QueueError
from .common import add_bus_options, send, tool_client
from .env import Environment, ExitCode

COUNTER_ACTIONS = ["call-next", "recall", "no-show", "done", "pause", "resume", "transfer"]


def register(sub: Any) -> None:
    t = sub.add_parser("ticket", help="issue a ticket")
    tsub = t.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)
    issue = tsub.add_parser("issue", help="issue a ticket for SERVICE (id or prefix letter)")
    issue.add_argument("service")
    issue.add_argument("--priority", action="store_true", help="for the priority window")
    add_bus_options(issue)
    issue.set_defaults(func=ticket_issue)

    c = sub.add_parser("counter", help="run a counter unit, or act at a counter as its clerk would")
    # Without an ACTION, `nidaa counter` runs the counter unit (cli/counter_cmd.py).
    csub = c.add_subparsers(dest="counter_command", metavar="ACTION", required=False)
    for action in COUNTER_ACTIONS:
        a = csub.add_parser(action, help=f"{action} at COUNTER (id or window number)")
        a.add_argument("counter")
        if action == "transfer":
            a.add_argument("service", help="the service to transfer the current ticket to")
        add_bus_options(a)
        a.set_defaults(func=counter_action, action=action)

    q = sub.add_parser("queue", help="waiting per service and now serving per counter")
    add_bus_options(q)
    q.set_defaults(func=queue_snapshot)

    s = sub.add_parser("status", help="every unit seen on the bus and its health")
    add_bus_options(s)
    s.set_defaults(func=status)


def _ticket_line(t: dict[str, Any] | None) -> str:
    if not t:
        return "—"
    mark = " (priority)" if t.get("priority") else ""
    window = f" at window {t['window']}" if t.get("window") else ""
    return f"{t['number']}{mark} [{t['service']}] {t['state']}{window}"


def ticket_issue(args: argparse.Namespace, env: Environment) -> int:
    with tool_client(args) as (cfg, bus):
        try:
            result = send(
                bus,
                bus.topics.ticket_cmd(bus.sender, "issue"),
                args,
                service=args.service,
                priority=args.priority,
            )
        except QueueError as exc:
            if exc.code == "unknown_service":
                known = ", ".join(f"{s.prefix} ({s.id})" for s in cfg.services)
                raise QueueError(exc.code, f"{exc.message}; services: {known}") from None
            raise
    if args.json:
        env.json(result["ticket"] | {"estimate": result.get("estimate")})
    else:
        est = result.get("estimate") or {}
        env.out(
            f"{_ticket_line(result['ticket'])}; {est.get('people_ahead')} ahead, ~{est.get('minutes')} min"
        )
    return ExitCode.OK


def counter_action(args: argparse.Namespace, env: Environment) -> int:
    with tool_client(args) as (cfg, bus):
        try:
            counter = cfg.counter(args.counter).id
        except KeyError:
            env.err(
                f"unknown counter {args.counter!r}; known: {', '.join(c.id for c in cfg.counters)}"
            )
            return ExitCode.USAGE
        extra = {"service": args.service} if args.action == "transfer" else {}
        result = send(bus, bus.topics.counter_cmd(bus.sender, counter, args.action), args, **extra)
    if args.json:
        env.json(result)
    elif "counter" in result:
        env.out(f"counter {counter}: {result['counter']['state']}")
    elif not result.get("ticket") and args.action == "call-next":
        env.out(f"counter {counter}: nobody waiting for its services")
    else:
        env.out(f"counter {counter}: {_ticket_line(result.get('ticket'))}")
        if result.get("finished"):
            env.out(f"  finished {_ticket_line(result['finished'])}")
    return ExitCode.OK


def queue_snapshot(args: argparse.Namespace, env: Environment) -> int:
    with tool_client(args) as (_cfg, bus):
        snap = send(bus, bus.topics.queue_cmd(bus.sender, "snapshot"), args)
    if args.json:
        env.json(snap)
        return ExitCode.OK
    env.out(f"{'service':<12} {'pfx':<3} {'waiting':>7} {'prio':>4} {'est min':>7} {'open':>4}")
    for s in snap["services"]:
        est = "-" if s["estimate_minutes"] is None else f"{s['estimate_minutes']:.0f}"
        env.out(
            f"{s['service']:<12} {s['prefix']:<3} {s['waiting']:>7} {s['waiting_priority']:>4} "
            f"{est:>7} {s['open_counters']:>4}"
        )
    env.out("")
    env.out(f"{'counter':<8} {'window':>6} {'state':<8} ticket")
    for c in snap["counters"]:
        mark = " ♿" if c["priority_window"] else ""
        number = c["ticket"]["number"] if c["ticket"] else "—"
        env.out(f"{c['counter']:<8} {c['window']:>6} {c['state']:<8} {number}{mark}")
    return ExitCode.OK


def status(args: argparse.Namespace, env: Environment) -> int:
    seen: dict[str, dict[str, Any]] = {}
    quiet = threading.Event()
    last = [time.monotonic()]

    def on_status(msg: Message) -> None:
        try:
            body = msg.json()
        except ValueError:
            return
        seen[msg.topic] = body
        last[0] = time.monotonic()

    with tool_client(args) as (cfg, bus):
        bus.subscribe(bus.topics.all_status, on_status)
        deadline = time.monotonic() + min(args.timeout, 2.0)
        # Retained statuses arrive right after subscribing; stop once they pause.
        while time.monotonic() < deadline and not quiet.wait(0.05):
            if seen and time.monotonic() - last[0] > 0.3:
                break
    units = sorted(seen.values(), key=lambda u: (str(u.get("role")), str(u.get("unit"))))
    standby = standby_summary(units) if cfg.ha is not None else None
    if args.json:
        env.json(
            {"branch": cfg.branch.id, "units": units, **({"standby": standby} if standby else {})}
        )
    else:
        tz = cfg.branch.timezone
        if not units:
            env.out("no unit has reported on this branch's bus")
        for u in units:
            faults = "; ".join(
                f"{f.get('code')}: {f.get('message')}" for f in u.get("faults") or []
            )
            env.out(
                f"{u.get('role', '?'):<12} {u.get('unit', '?'):<14} {u.get('state', '?'):<9} "
                f"v{u.get('version', '?'):<8} last seen {_local(u.get('ts'), tz)}  {faults}"
            )
        if standby is not None:
            env.out(standby_line(standby))
    # A standby master is healthy while it says so.
    unhealthy = [u for u in units if u.get("state") not in ("online", "standby")]
    if standby is not None and standby["active"] is None:
        unhealthy.append({"unit": "no active master"})
    return ExitCode.OK if not unhealthy else ExitCode.HARDWARE


def _local(ts: Any, timezone: str) -> str:
    """A status time stamp (UTC ISO) in the branch's own time, as staff read it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        when = datetime.fromisoformat(str(ts)).astimezone(ZoneInfo(timezone))
    except (ValueError, TypeError):
        return str(ts)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def standby_line(standby: dict[str, Any]) -> str:
    """`nidaa status`'s line for a standby branch; etcd's health carries its age past 10 s."""
    lag = ", ".join(f"{u} {n} entries behind" for u, n in standby["lag"].items())
    age = standby["etcd_checked_s"]
    stale = f" (checked {age:.0f} s ago)" if isinstance(age, (int, float)) and age > 10 else ""
    return (
        f"standby: active master {standby['active'] or 'NONE'}; {lag or 'no standby lag known'};"
        f" etcd {standby['etcd_up']}/{standby['etcd_members']} members up{stale}"
    )


def standby_summary(units: list[dict[str, Any]]) -> dict[str, Any]:
    """The active master, the standbys' lag and etcd's health, from the masters' statuses."""
    masters = [u for u in units if u.get("role") == "master" and u.get("state") != "offline"]
    active = next((u for u in masters if u.get("state") == "online"), None)
    source = active or (masters[0] if masters else {})
    return {
        "active": active.get("unit") if active else None,
        "lag": dict(active.get("lag") or {}) if active else {},
        "log_seq": source.get("log_seq"),
        "etcd_up": source.get("etcd_up", "?"),
        "etcd_members": source.get("etcd_members", "?"),
        # How old the master's last look at etcd is (it probes apart from its work).
        "etcd_checked_s": source.get("etcd_checked_s"),
    }
