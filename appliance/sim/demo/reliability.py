"""docs/reliability.md: the table of a chaos run, written from its result.

The file is produced by ``nidaa demo --chaos --report FILE``, never by hand;
:func:`check_report` is what a test uses to hold a committed file to the
format (every fault and invariant row well formed, every must-be-zero
invariant held, the producing command named).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .chaos import MUST_BE_ZERO

#: Each figure of a run: what exactly it counts.
DEFINITIONS: dict[str, str] = {
    "tickets_issued": "tickets in the master's database at the end (transfers not counted)",
    "tickets_printed": "ticket files the kiosks' simulated printers wrote",
    "numbers_duplicated": "tickets sharing a number (business day and label) with another",
    "tickets_lost": "printed tickets (kiosk log: number and id) that the master does not "
    "hold under that id and number",
    "presses": "presses a kiosk took: its control socket answered `ok` after the button "
    "handler ran, or its pin journal holds the press (the kiosk died before answering).  "
    "A press on a dead or restarting kiosk is no press",
    "presses_printed": "acknowledged presses followed by a new printed ticket",
    "presses_refused": "acknowledged presses followed by the buzzer (no ticket, a fault "
    "on the kiosk's LED and status: paper out, master unreachable)",
    "presses_cut_by_kill": "acknowledged presses whose kiosk process was killed (-9) "
    "before printing or refusing: a power cut; the citizen presses again",
    "presses_unanswered": "acknowledged presses after which the same live kiosk neither "
    "printed nor refused within 30 s",
    "presses_answered_twice": "printed tickets beyond one per press, plus tickets "
    "printed more than once",
    "tickets_without_paper": "tickets the master issued to a kiosk that were neither "
    "printed nor voided: the kiosk was killed while the paper was printing (its journal "
    "voids a request killed before that; one killed mid-print is left, as the citizen "
    "may hold the paper, and ends as a no-show if not)",
    "tickets_voided": "tickets voided at the master (a kiosk that got no answer in time "
    "voids the number once the master answers)",
    "calls": "call events the master committed",
    "calls_not_on_counter_display": "calls at a counter with a unit whose display never "
    "showed that number after the call",
    "calls_not_on_hall_display": "calls the hall display never drew (by event id; a call "
    "made while it restarted counts as shown if it drew it after the restart)",
    "sms_stage_events": "stage events the master emitted for citizens' requests",
    "sms_neither_delivered_nor_dead": "stage events whose SMS is neither sent nor in the "
    "outbox's dead letters (which `nidaa status` shows) once the run settled",
    "sms_sent_twice_documented": "SMS the modem got twice for a part that was resent after "
    "an unanswered send or a crash (docs/sms.md, 'What can still be duplicated')",
    "sms_sent_twice_otherwise": "SMS the modem got twice for any other reason",
    "daemons_left_dead": "daemons not running at the end (the harness restarts as systemd)",
}

FAULTS: dict[str, str] = {
    "kill9_master": "kill -9 of the master",
    "kill9_kiosk": "kill -9 of a kiosk",
    "kill9_counter": "kill -9 of a counter unit",
    "kill9_display": "kill -9 of the hall display",
    "kill9_sms": "kill -9 of the SMS gateway",
    "mosquitto_restart": "Mosquitto restarted",
    "sigstop_master": "master frozen (SIGSTOP 1–3 s, then SIGCONT)",
    "sigstop_kiosk": "kiosk frozen (SIGSTOP 1–3 s)",
    "sigstop_counter": "counter unit frozen (SIGSTOP 1–3 s)",
    "sigstop_display": "hall display frozen (SIGSTOP 1–3 s)",
    "sigstop_sms": "SMS gateway frozen (SIGSTOP 1–3 s)",
    "printer_paper_out": "printer out of paper for 2–4 s, then refilled",
    "modem_cms_error": "modem answers `+CMS ERROR: 500` to the next 3 sends",
    "modem_unplugged": "modem unplugged for 1–3 s, then plugged back in",
}

#: The faults of a run with ``--standby`` (appliance/sim/demo/chaos_standby.py).
STANDBY_FAULTS: dict[str, str] = {
    "kill_active": "kill -9 of the active master",
    "freeze_active": "active master paused (SIGSTOP) past its lease, a commit of its in "
    "flight on an etcd member that hangs meanwhile; then SIGCONT",
    "pi_lost": "the active master's whole Pi lost (its master and its broker), back 2–4 s later",
    "etcd_member": "an etcd member killed, started again 2–4 s later",
    "broker": "the first Mosquitto restarted",
    "kill": "kill -9 of a unit other than a master candidate",
}

#: The figures of a run with ``--standby``.
STANDBY_DEFINITIONS: dict[str, str] = {
    "failovers": "times leadership moved to another master candidate",
    "zombie_commits_refused": "commits of a master that had lost its lease (paused past "
    "it) that etcd refused: it acknowledged nothing",
    "paused_masters_stepped_down": "paused masters that found their lease gone on waking",
    "takeovers_measured": "faults on the active master after which the time to a ticket "
    "printed by the new master was measured",
    "takeovers_without_a_ticket": "such faults with no ticket printed within 30 s",
    "takeover_p50_s": "median seconds from the fault to the first ticket printed that the "
    "new master issued",
    "takeover_max_s": "the longest of those",
    "takeover_max_s_by_fault": "the longest by kind of fault",
}

ROW = re.compile(r"^\| (?P<name>[^|]+?) \| `(?P<key>[a-z0-9_]+)` \| (?P<value>\d+) \|(?P<rest>.*)$")
COMMAND = re.compile(r"^Produced by `(nidaa demo --chaos [^`]*--report [^`]+)`", re.M)


INTRO = [
    "Every role ran as its own process on simulated hardware: Mosquitto, the master,",
    "two kiosks, counter units, the hall display and the SMS gateway.  A harness",
]
STANDBY_INTRO = [
    "Every role ran as its own process on simulated hardware: two master candidates",
    "(docs/standby.md) on a three-member etcd cluster, a Mosquitto on each candidate's",
    "Pi, two kiosks, counter units, the hall display and the SMS gateway.  A harness",
]


def render(result: dict[str, Any], command: str) -> str:
    lines = [
        "# Reliability: the virtual branch under faults",
        "",
        f"Produced by `{command}` — do not edit by hand; run it again.",
        "",
        *(STANDBY_INTRO if "failovers" in result else INTRO),
        "restarted whatever died, as systemd does, while simulated citizens pressed the",
        "kiosks' buttons, clerks pressed their counters' buttons and a back office",
        "registered phone numbers and moved requests on.  Faults came one after another;",
        f"the run lasted {result.get('seconds', 0):g} s of citizens and clerks, then settled.",
        "",
        "## Faults injected",
        "",
        "| fault | key | count |",
        "|---|---|---|",
    ]
    faults = result.get("faults_injected", {})
    for key in sorted(faults):
        lines.append(f"| {(FAULTS | STANDBY_FAULTS).get(key, key)} | `{key}` | {faults[key]} |")
    lines += ["", "## Invariants", "", "| invariant | key | value | must be | held |",
              "|---|---|---|---|---|"]  # fmt: skip
    for key in MUST_BE_ZERO:
        if key in result:
            held = "yes" if result[key] == 0 else "**NO**"
            lines.append(f"| {DEFINITIONS.get(key, key)} | `{key}` | {result[key]} | 0 | {held} |")
    lines += ["", "## Other figures", "", "| figure | key | value |", "|---|---|---|"]
    for key, text in (DEFINITIONS | STANDBY_DEFINITIONS).items():
        if key not in MUST_BE_ZERO and key in result:
            lines.append(f"| {text} | `{key}` | {result[key]} |")
    restarts = result.get("restarts", {})
    lines += ["", "Restarts by the harness: "
              + ", ".join(f"{k} {v}" for k, v in sorted(restarts.items())) + "."]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(path: Path, result: dict[str, Any], command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(render(result, command), encoding="utf-8")
    tmp.replace(path)


def check_report(text: str) -> list[str]:
    """What is wrong with a report's format (empty when it is right)."""
    problems = []
    if not COMMAND.search(text):
        problems.append("no 'Produced by `nidaa demo --chaos ... --report ...`' line")
    sections = re.split(r"^## ", text, flags=re.M)
    tables = {s.split("\n", 1)[0]: s for s in sections[1:]}
    for title in ("Faults injected", "Invariants"):
        if title not in tables:
            problems.append(f"no section {title!r}")
    faults = [ROW.match(line) for line in tables.get("Faults injected", "").splitlines()[4:]]
    rows = [m for m in faults if m]
    if not rows:
        problems.append("no fault row")
    known = FAULTS | STANDBY_FAULTS
    problems += [f"unknown fault {m['key']!r}" for m in rows if m["key"] not in known]
    seen = set()
    for line in tables.get("Invariants", "").splitlines()[4:]:
        if not line.startswith("|"):
            continue
        m = ROW.match(line)
        if m is None:
            problems.append(f"bad invariant row: {line}")
            continue
        seen.add(m["key"])
        if m["key"] not in MUST_BE_ZERO or m["rest"].strip() != "0 | yes |":
            problems.append(f"invariant {m['key']} not held: {line}")
    missing = {k for k in MUST_BE_ZERO if not k.startswith("sms_")} - seen
    problems += [f"invariant {k} missing" for k in sorted(missing)]
    return problems
