"""The security drill: issue 12's attempts against a provisioned branch.

A branch is provisioned as on site (`nidaa provision`: one account per unit,
generated passwords, the ACL), its Mosquitto started with that configuration
and the real master started with the master's own credentials.  Each attempt
then uses one unit's stolen credentials (or a technician's bad file) and
reports what happened; `nidaa demo --attacks --report docs/security.md`
writes the table.  The tests run the same attempts and require each to hold.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from ...bus.client import BusClient, new_command_id
from .drill import VOID_WINDOW_S, Attempt, Drill, Raw
from .impersonation import flood_as_other, other_command_topic, void_as_other

FLOOD = 3000


# -- the attempts ----------------------------------------------------------------------
def takeover(d: Drill) -> list[Attempt]:
    """1: a kiosk's credentials with another unit's client id."""
    out = []
    for victim in ("master", d.config.sms.unit if d.config.sms else "sms1"):
        d.raw("k1").close()  # no client of k1's own is connected
        raw = Raw(d, "k1", client_id=victim)
        accepted = raw.connect(d.port)
        raw.close()
        # MQTT gives a client id to the newest connection: accepted means the
        # victim was disconnected (and reconnects, disconnecting the attacker).
        held = not accepted
        result = (
            f"refused ({raw.refused})" if not accepted else "accepted: the unit was disconnected"
        )
        out.append(Attempt(1, f"kiosk password, client id `{victim}`", result, held))
        d.wait_master()
    return out


def reply_injection(d: Drill) -> list[Attempt]:
    """2: a kiosk names someone else's topic as its reply topic."""
    t = d.topics
    targets = [
        t.event("call"), t.counter_state("w1"), t.status("master", d.config.master.unit),
        t.request_cmd("sms1", "ack"), f"{t.base}/reply/#", t.reply("counter-w1", "counter-w1"),
        "elsewhere/x",
    ]  # fmt: skip
    raw = d.raw("k1")
    before = d.waiting()
    service = d.service("w1")
    for target in targets:
        raw.publish(
            t.ticket_cmd("k1", "issue"), {"id": new_command_id("k1"), "service": service}, target
        )
    # The same kiosk's proper request after them: answered once they were handled.
    own = raw.ask(t.ticket_cmd("k1", "issue"), _issue(service), t.reply("k1", "k1"))
    raw.close()
    answered = [x for x in targets if any(b'"ok"' in p for p in d.seen_on(x))]
    applied = d.waiting() - before - (own == "ok")
    held = not answered and applied == 0
    result = (
        f"{len(targets)} reply topics tried ({', '.join(f'`{x}`' for x in targets[4:6])}, "
        f"`event/call`, `state/…`, `status/…`, `cmd/…`): answers published on "
        f"{len(answered)}, tickets issued {applied}"
    )
    return [Attempt(2, "kiosk names another topic as its reply topic", result, held)]


def _issue(service: str, cid: str | None = None) -> bytes:
    return json.dumps({"id": cid or new_command_id("k1"), "service": service}).encode()


def retained(d: Drill) -> list[Attempt]:
    """3: a retained command, replayed by the broker at every restart."""
    t = d.topics
    kiosk, counter = d.raw("k1"), d.raw("counter-w2")
    before = d.waiting()
    kiosk.publish(
        t.ticket_cmd("k1", "issue"), _issue(d.service("w2")), t.reply("k1", "k1"), retain=True
    )
    counter.publish(t.counter_cmd("counter-w2", "w2", "call-next"), {"id": new_command_id("counter-w2")},
                    t.reply("counter-w2", "counter-w2"), retain=True)  # fmt: skip
    time.sleep(1.0)
    kiosk.close()
    counter.close()
    live = d.waiting() - before
    d.restart_master()
    time.sleep(1.0)
    after = d.waiting() - before
    calls = [p for p in d.seen_on(t.event("call")) if b'"w2"' in p]
    # Cleared from the broker, once: a newcomer finds no retained command.
    probe = Raw(d, "tech", client_id="tech-probe")
    probe.connect(d.port)
    probe.c.subscribe(t.all_commands, qos=1)
    kept = [m for m in probe.drain(1.5) if m.retain and m.payload]
    probe.close()
    held = live == 0 and after == 0 and not calls and not kept
    result = (
        f"tickets issued: {live} live, {after} after a master restart; calls at w2: "
        f"{len(calls)}; retained commands left in the broker: {len(kept)}"
    )
    return [Attempt(3, "kiosk and counter publish retained commands", result, held)]


def voids(d: Drill) -> list[Attempt]:
    """4: a kiosk voids tickets that are not its own, or no longer waiting."""
    t = d.topics
    kiosk, clerk = d.client("k1", "kiosk"), d.client("counter-w2", "counter")
    service = d.service("w2")
    out = []

    def issue(bus: BusClient) -> dict[str, Any]:
        return dict(d.ask(bus, t.ticket_cmd(bus.sender, "issue"), service=service)["ticket"])

    def void(ticket: dict[str, Any]) -> str:
        answer = d.ask(kiosk, t.ticket_cmd("k1", "void"), ticket_id=ticket["id"], reason="drill")
        return str(answer.get("error") or answer["ticket"]["state"])

    got = void(issue(d.tech))
    what = "kiosk voids a waiting ticket it did not issue"
    out.append(Attempt(4, what, f"refused `{got}`" if got != "voided" else got, got != "voided"))
    mine = issue(kiosk)
    for _ in range(100):  # w2 calls until the kiosk's ticket is at its window
        if d.ticket_state(mine["id"]) == "called":
            break
        d.ask(clerk, t.counter_cmd("counter-w2", "w2", "call-next"))
    got = void(mine)
    what = "kiosk voids its own ticket being served"
    out.append(Attempt(4, what, f"refused `{got}`" if got != "voided" else got, got != "voided"))
    late = issue(kiosk)
    time.sleep(VOID_WINDOW_S + 0.5)
    got = void(late)
    what = f"kiosk voids its own waiting ticket {VOID_WINDOW_S:g} s after issue (the window)"
    out.append(Attempt(4, what, f"refused `{got}`" if got != "voided" else got, got != "voided"))
    got = void(issue(kiosk))
    what = "kiosk voids its own fresh ticket (a failed print)"
    out.append(Attempt(4, what, f"allowed: {got}", got == "voided"))
    return out


def bad_messages(d: Drill) -> list[Attempt]:
    """6: a lone surrogate, deep nesting, one id for two bodies."""
    t = d.topics
    raw = d.raw("k1")
    reply = t.reply("k1", "k1")
    out = []
    issued = d.ask(d.tech, t.ticket_cmd("tech", "issue"), service=d.service("w1"))["ticket"]
    # The ticket is the technician's: the void is tried through the technician too
    # (a kiosk may not void it at all), with a reason no database can store.
    void = {"id": new_command_id("t"), "ticket_id": issued["id"], "reason": "\udfff"}
    body = json.dumps(void).encode()  # JSON allows it: "\\udfff"
    got = _tech_raw(d, t.ticket_cmd("tech", "void"), body)
    state = d.ticket_state(issued["id"])
    d.restart_master()
    again = d.ask(d.tech, t.ticket_cmd("tech", "void"), ticket_id=issued["id"], reason="drill")
    held = got == "bad_request" and state == "waiting" and "ticket" in again
    result = f"answer `{got}`; in the database: {state}; a proper void afterwards: " + (
        "voided" if "ticket" in again else str(again.get("error"))
    )
    out.append(Attempt(6, "void with a lone surrogate (`\\udfff`) in its reason", result, held))
    deep = b'{"id": "deep", "service": ' + b"[" * 30000 + b"]" * 30000 + b"}"
    got = raw.ask(t.ticket_cmd("k1", "issue"), deep, reply)
    out.append(Attempt(6, "JSON nested 30,000 deep (60 KB)", f"answer `{got}`", got == "bad_json"))
    cid = new_command_id("k1")
    first = raw.ask(t.ticket_cmd("k1", "issue"), _issue(d.service("w1"), cid), reply)
    second = raw.ask(t.ticket_cmd("k1", "issue"), _issue(d.service("w4"), cid), reply)
    raw.close()
    held = first == "ok" and second == "id_reused"
    out.append(Attempt(6, "one command id, two bodies", f"answers `{first}`, `{second}`", held))
    return out


def _tech_raw(d: Drill, topic: str, payload: bytes) -> str:
    raw = Raw(d, "tech", client_id="tech-raw")
    raw.connect(d.port)
    try:
        return raw.ask(topic, payload, d.topics.reply("tech", "tech-raw"))
    finally:
        raw.close()


def flood(d: Drill) -> list[Attempt]:
    """5: one kiosk sends 3,000 ticket requests at once; a clerk presses next."""
    t = d.topics
    raw = d.raw("k1")
    raw.c.subscribe(t.reply("k1", "k1"), qos=1)
    clerk = d.client("counter-w1", "counter")
    d.ask(clerk, t.counter_cmd("counter-w1", "w1", "call-next"))  # warm
    time.sleep(0.3)
    service = d.service("w1")
    for _ in range(FLOOD):
        raw.publish(t.ticket_cmd("k1", "issue"), _issue(service), t.reply("k1", "k1"))
    t0 = time.perf_counter()
    d.ask(clerk, t.counter_cmd("counter-w1", "w1", "call-next"))
    call_ms = (time.perf_counter() - t0) * 1000
    before_call = raw.messages.qsize()
    replies: list[mqtt.MQTTMessage] = []
    deadline = time.monotonic() + 60
    while len(replies) < FLOOD and time.monotonic() < deadline:
        replies += raw.drain(2.0)
    raw.close()
    ok = sum(1 for m in replies if b'"ok":true' in m.payload)
    limited = sum(1 for m in replies if b"rate_limited" in m.payload)
    limit = d.config.master.tickets_per_minute
    held = ok <= limit and before_call < FLOOD
    result = (
        f"{ok} issued, {limited} refused `rate_limited` (limit {limit} a minute); a counter's "
        f"call-next answered in {call_ms:.0f} ms, after {before_call} of the kiosk's "
        f"{len(replies)} answers"
    )
    return [Attempt(5, f"kiosk sends {FLOOD:,} ticket requests at once", result, held)]


def sms_copies(d: Drill) -> list[Attempt]:
    """8: phone numbers queued for an offline gateway."""
    t = d.topics
    unit = d.config.sms.unit if d.config.sms else "sms1"
    gw = Raw(d, unit)
    gw.connect(d.port, clean=False, expiry=86400)
    gw.c.subscribe(t.event("stage"), qos=1)
    time.sleep(0.3)
    gw.c.publish(t.status("sms-gateway", unit), b'{"state":"offline"}', qos=1, retain=True)
    time.sleep(0.3)
    gw.close()
    clerk = d.client("counter-w1", "counter")
    number = d.ask(d.tech, t.ticket_cmd("tech", "issue"), service=d.service("w1"))["ticket"][
        "number"
    ]
    d.ask(
        clerk,
        t.request_cmd("counter-w1", "register"),
        ticket=number,
        phone="010 1234 5678",
        ref="DRILL-1",
    )
    time.sleep(6)  # six resend intervals with the gateway away
    back = Raw(d, unit)
    back.connect(d.port, clean=False, expiry=86400)
    copies = [m for m in back.drain(2.0) if m.topic == t.event("stage")]
    back.c.publish(t.status("sms-gateway", unit), b'{"state":"online"}', qos=1, retain=True)
    online = [m for m in back.drain(3.0) if m.topic == t.event("stage")]
    back.c.publish(t.status("sms-gateway", unit), b'{"state":"offline"}', qos=1, retain=True)
    time.sleep(0.2)
    back.close()
    held = len(copies) <= 1 and len(online) >= 1
    result = (
        f"{len(copies)} cop{'y' if len(copies) == 1 else 'ies'} of the number waited in the "
        f"gateway's session after 6 s away (resend every 1 s); {len(online)} sent once it was online"
    )
    return [Attempt(8, "stage event while the SMS gateway is offline", result, held)]


CONFIG_CASES: list[tuple[str, Callable[[str], str]]] = [
    ("TOML nested 100,000 deep", lambda text: text + "\nx = " + "[" * 100000 + "]" * 100000),
    ("`service_minutes = nan`", lambda text: text.replace("service_minutes = ", "service_minutes = nan #", 1)),
    ("`others = \"never\"` and no priority window", lambda text: text.replace('others = "ratio"', 'others = "never"', 1).replace("priority = true\n", "")),
    ("SMS template `{ref:>100000000}`", lambda text: text.replace("[sms.templates]\n", '[sms.templates]\nready = "{ref:>100000000}"\n', 1)),
    ("bidi override U+202E in a service name", lambda text: text.replace('name_ar = "', 'name_ar = "\u202e', 1)),
    ("one unit id for a counter and a kiosk", lambda text: text.replace('unit = "k1"', 'unit = "counter-w1"', 1)),
]  # fmt: skip


def configs(d: Drill) -> list[Attempt]:
    """7: files that validated and then broke the day."""
    out = []
    base = d.base.read_text(encoding="utf-8")
    for what, edit in [*CONFIG_CASES, ("`/dev/zero` as the configuration", lambda _: "")]:
        path = Path("/dev/zero") if what.startswith("`/dev/zero`") else d.dir / "bad.toml"
        if path != Path("/dev/zero"):
            path.write_text(edit(base), encoding="utf-8")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "appliance", "config", "validate", str(path)],
                capture_output=True, timeout=120, preexec_fn=_memory_cap,
            )  # fmt: skip
            code, trace = proc.returncode, b"Traceback" in proc.stderr
        except subprocess.TimeoutExpired:
            code, trace = -1, False
        held = code == 3 and not trace
        result = (
            "no answer in 120 s"
            if code == -1
            else f"exit {code}" + (", traceback" if trace else "")
        )
        out.append(Attempt(7, what, result, held))
    return out


def _memory_cap() -> None:
    """A bad file must not take the machine's memory with it: 1 GB at most."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


ATTEMPTS: list[Callable[[Drill], list[Attempt]]] = [
    takeover, other_command_topic, reply_injection, retained, voids, void_as_other,
    bad_messages, flood, flood_as_other, sms_copies, configs,
]  # fmt: skip


def run_drill(config: Path, workdir: Path | None = None) -> list[Attempt]:
    work = Path(workdir or tempfile.mkdtemp(prefix="nidaa-drill-"))
    drill = Drill(work, config)
    results: list[Attempt] = []
    with drill.running():
        for attempt in ATTEMPTS:
            results += attempt(drill)
    return sorted(results, key=lambda a: a.item)


BEGIN = "<!-- generated by `nidaa demo --attacks --report docs/security.md`: do not edit -->"
END = "<!-- end of the generated table -->"


def table(attempts: list[Attempt]) -> str:
    rows = [
        BEGIN,
        "",
        "| item | attempt | result | held |",
        "|---|---|---|---|",
    ]
    for a in attempts:
        rows.append(f"| {a.item} | {a.what} | {a.result} | {'yes' if a.held else '**no**'} |")
    held = sum(a.held for a in attempts)
    rows += ["", f"{held} of {len(attempts)} attempts held.", "", END]
    return "\n".join(rows)


def write_report(path: Path, attempts: list[Attempt]) -> None:
    """Replace the generated table in ``path`` (the rest is written by hand)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Security\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + table(attempts) + tail
    else:
        text = text.rstrip("\n") + "\n\n## The drill\n\n" + table(attempts) + "\n"
    path.write_text(text, encoding="utf-8")
