"""The ``[[counter_units]]`` section: one table per counter unit (a Pi, or
one of several units on a Pi, serving one counter).  Reference: docs/counter.md."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..config.core import ID, Branchwide
from ..config.schema import setting

Action = Literal["next", "recall", "no_show", "transfer", "pause", "done", "none"]


@dataclass(frozen=True)
class ButtonSpec:
    """One wired button and what its gestures do."""

    pin: int = setting("BCM GPIO number the button pulls to ground.", minimum=0, maximum=27)
    press: Action = setting(
        "Action of a short press: next, recall, no_show, transfer, pause (pause/resume "
        "toggle), done, none."
    )
    hold: Action = setting(
        "Action when held at least `hold_s` and released (where fewer buttons are "
        "wired than actions); 'none': a hold counts as a press.",
        default="none",
    )


@dataclass(frozen=True)
class FeedbackBox:
    """The citizen's three-button satisfaction box (the charter's survey)."""

    satisfied: int = setting("BCM pin of the 'satisfied' button.", minimum=0, maximum=27)
    neutral: int = setting("BCM pin of the 'neutral' button.", minimum=0, maximum=27)
    unsatisfied: int = setting("BCM pin of the 'unsatisfied' button.", minimum=0, maximum=27)
    window_s: float = setting(
        "How long after a citizen's service ends a rating is still taken for them.",
        default=120.0,
        minimum=0,
        maximum=3600,
        aliases=("window_seconds",),
    )


@dataclass(frozen=True)
class DisplayConfig:
    """The counter's LED number display on a serial port."""

    backend: Literal["serial", "simulated", "none"] = setting(
        "'serial': a display on `port`; 'simulated': the firmware code on a pty "
        "(demo, tests); 'none': no display.",
        default="serial",
    )
    port: str = setting(
        "Serial device, preferably a stable /dev/serial/by-id/... link.", default="/dev/ttyUSB0"
    )
    protocol: Literal["nidaa", "vendor"] = setting(
        "'nidaa': Nidaa's display firmware (ACK/NAK); 'vendor': plain STX address text "
        "ETX displays (no answer).",
        default="nidaa",
    )
    address: int = setting(
        "Display address on the RS-485 pair (nidaa: 1-254, vendor: 0-99).",
        default=1,
        minimum=0,
        maximum=254,
    )
    digits: int = setting("Digits on the display.", default=4, minimum=4, maximum=8)
    baudrate: int = setting("Baud rate.", default=19200, minimum=1200, maximum=921600)
    parity: Literal["N", "E", "O"] = setting("Parity: N, E or O.", default="N")
    stopbits: int = setting("Stop bits.", default=1, minimum=1, maximum=2)
    rs485: Literal["auto", "kernel", "off"] = setting(
        "Kernel RS-485 direction control: 'auto' where the port supports it, 'kernel' "
        "required, 'off' never (auto-direction adapters).",
        default="auto",
    )
    timeout_ms: int = setting(
        "Milliseconds to wait for the display's answer.", default=150, minimum=10, maximum=5000
    )
    retries: int = setting("Retries after a NAK or no answer.", default=3, minimum=0, maximum=10)
    brightness: int = setting("Brightness 0-15.", default=8, minimum=0, maximum=15)
    record_file: str = setting(
        "Simulated backend: append every text the digits show to this file, as JSON "
        "lines (demo --chaos checks each call reached the display).",
        default="",
    )
    blink_times: int = setting(
        "Blinks on a new call or a recall (0: until the next change).",
        default=3,
        minimum=0,
        maximum=20,
    )
    idle_text: str = setting("Shown when the counter is open and serves no one.", default="----")
    paused_text: str = setting("Shown while the clerk has paused the counter.", default="PAUS")
    closed_text: str = setting("Shown while the counter is closed.", default="")
    offline_text: str = setting(
        "Shown when the master is gone (its Last Will) or the broker is unreachable.",
        default="OFF",
    )
    check_s: float = setting(
        "Seconds between health checks of an idle display, and between retries of a faulty one.",
        default=5.0,
        minimum=0.2,
        maximum=600,
        aliases=("check_seconds",),
    )

    def check(self) -> Iterator[tuple[str, str]]:
        if self.protocol == "nidaa" and not 1 <= self.address <= 254:
            yield "address", "a nidaa display address is 1..254"
        if self.protocol == "vendor" and self.address > 99:
            yield "address", "a vendor display address is 0..99"
        if self.backend == "simulated" and self.protocol != "nidaa":
            yield "protocol", "the simulated display runs Nidaa's firmware: protocol 'nidaa'"
        for name in ("idle_text", "paused_text", "closed_text", "offline_text"):
            if len(getattr(self, name).replace(".", "")) > self.digits:
                yield name, f"longer than the display's {self.digits} digits"


@dataclass(frozen=True)
class CounterUnit:
    """A counter unit: the buttons and display at one counter."""

    unit: str = setting("Unit id (its status topic and MQTT client id).", pattern=ID)
    counter: str = setting("Id of the counter this unit serves ([[counters]] id).", pattern=ID)
    buttons: list[ButtonSpec] = setting(
        "The clerk's buttons, as [[counter_units.buttons]] tables.", default_factory=list
    )
    pin_factory: Literal["lgpio", "rpigpio", "mock", "sim"] = setting(
        "gpiozero pin factory: 'lgpio' (Pi 5 and recent Pi OS), 'rpigpio' (older boards) "
        "or 'mock' (no GPIO: demo, tests); 'sim' is pressed by another process (demo --chaos).  "
        "GPIOZERO_PIN_FACTORY in the environment wins.",
        default="lgpio",
    )
    transfer_service: str = setting(
        "Service a 'transfer' press moves the citizen to (id or prefix letter).", default=""
    )
    next_guard_s: float = setting(
        "A second 'next' within this many seconds of the last is ignored, so a double "
        "press never skips a citizen.",
        default=3.0,
        minimum=0,
        maximum=60,
        aliases=("next_guard_seconds",),
    )
    hold_s: float = setting(
        "How long a button is held for its 'hold' action.",
        default=1.5,
        minimum=0.3,
        maximum=10,
        aliases=("hold_seconds",),
    )
    debounce_ms: int = setting(
        "Edges closer than this to the previous one are contact bounce.",
        default=50,
        minimum=0,
        maximum=1000,
    )
    request_timeout_s: float = setting(
        "Seconds to wait for the master on each try of a press.",
        default=2.0,
        minimum=0.2,
        maximum=30,
        aliases=("command_timeout",),
    )
    feedback: FeedbackBox | None = setting("Optional feedback box.", default=None)
    display: DisplayConfig = setting("The LED display.", default_factory=DisplayConfig)

    def check(self) -> Iterator[tuple[str, str]]:
        pins = [b.pin for b in self.buttons]
        if self.feedback is not None:
            pins += [self.feedback.satisfied, self.feedback.neutral, self.feedback.unsatisfied]
        seen: set[int] = set()
        for pin in pins:
            if pin in seen:
                yield "buttons", f"GPIO{pin} is wired to more than one button"
            seen.add(pin)
        actions = {b.press for b in self.buttons} | {b.hold for b in self.buttons}
        if self.buttons and "next" not in actions:
            yield "buttons", "no button calls 'next'"
        if "transfer" in actions and not self.transfer_service:
            yield "transfer_service", "a 'transfer' button needs a transfer_service"


def check_units(units: list[CounterUnit], cfg: Branchwide) -> list[tuple[str, str]]:
    """Every cross-section problem of the counter units, with its path."""
    problems: list[tuple[str, str]] = []
    counters = {c.id for c in cfg.counters}
    seen: set[str] = set()
    for i, u in enumerate(units):
        path = f"counter_units[{i}]"
        if u.unit in seen:
            problems.append((f"{path}.unit", f"unit id {u.unit!r} is used twice"))
        seen.add(u.unit)
        if u.counter not in counters:
            problems.append((f"{path}.counter", f"unknown counter {u.counter!r}"))
        if u.transfer_service:
            try:
                cfg.service(u.transfer_service)
            except KeyError:
                problems.append(
                    (f"{path}.transfer_service", f"unknown service {u.transfer_service!r}")
                )
    return problems
