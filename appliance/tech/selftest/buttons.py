"""`nidaa test buttons`: a kiosk's or a counter's buttons, LEDs and buzzer.

Lights every configured LED and beeps the buzzer, so the technician sees the
outputs work, then waits for each configured button to be pressed, saying
which as it happens.  A button never pressed within the timeout fails the
test with its pin, so the technician knows which wire to follow.  Presses
go through the same debounce as the daemons (:class:`ButtonBoard`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from ...config.branch import Config
from ...drivers.buttons import ButtonBoard, ButtonEvent, factory_name, output_device, pin_factory
from ...errors import ConfigError, HardwareError
from .hints import access_problem, stop_daemon, warn_if_running
from .result import Progress, SelfTest, quiet


@dataclass(frozen=True)
class Wiring:
    """What is wired to one unit's GPIO header."""

    unit: str
    role: str  #: "kiosk" or "counter"
    pin_factory: str
    debounce_s: float
    buttons: dict[int, str]  #: pin → what the button is for
    outputs: dict[int, str]  #: pin → "led:..." / "buzzer"


def wiring(cfg: Config, unit_id: str | None) -> Wiring:
    """The kiosk or counter unit ``unit_id`` (or the only one with buttons)."""
    units: list[Wiring] = []
    for k in cfg.kiosks:
        buttons = {}
        for b in k.buttons:
            name = b.label_ar or (cfg.service(b.service).name_ar if b.service else "")
            buttons[b.pin] = name or ("priority" if b.priority else b.service)
        outputs = {
            pin: kind
            for pin, kind in (
                (k.status_led_pin, "led:status"),
                (k.fault_led_pin, "led:fault"),
                (k.buzzer_pin, "buzzer"),
            )
            if pin is not None
        }
        units.append(Wiring(k.unit, "kiosk", k.pin_factory, k.debounce_ms / 1000, buttons, outputs))
    for c in cfg.counter_units:
        buttons = {
            b.pin: b.press + (f", hold: {b.hold}" if b.hold != "none" else "") for b in c.buttons
        }
        if c.feedback is not None:
            for name in ("satisfied", "neutral", "unsatisfied"):
                buttons[getattr(c.feedback, name)] = f"feedback {name}"
        units.append(Wiring(c.unit, "counter", c.pin_factory, c.debounce_ms / 1000, buttons, {}))
    names = ", ".join(u.unit for u in units)
    if unit_id is None:
        if len(units) == 1:
            return units[0]
        if not units:
            raise ConfigError([("", "no [[kiosks]] or [[counter_units]] with buttons")])
        raise ConfigError([("", f"several units with buttons ({names}): choose one with --unit")])
    for u in units:
        if u.unit == unit_id:
            return u
    raise ConfigError([("", f"no kiosk or counter unit {unit_id!r} (known: {names})")])


def _gpio_checks(w: Wiring) -> list[str]:
    return [
        access_problem("/dev/gpiochip0") if w.pin_factory != "mock" else "",
        stop_daemon(w.role),
        f"pin_factory {w.pin_factory!r}: lgpio on a Pi 5 or recent Pi OS, rpigpio on old boards",
    ]


def _show_outputs(factory: Any, w: Wiring, result: SelfTest, light_s: float) -> bool:
    devices = []
    try:
        for pin, kind in sorted(w.outputs.items()):
            devices.append((pin, kind, output_device(kind.split(":")[0], pin, factory)))
        for _pin, kind, device in devices:
            if kind == "buzzer":
                device.beep(on_time=0.15, off_time=0.1, n=2, background=True)
            else:
                device.on()
        result.progress(f"  look: {', '.join(f'GPIO{p} {k}' for p, k, _ in devices)} on now")
        time.sleep(light_s)  # long enough to be seen; it is the test, not synchronisation
    except HardwareError as exc:
        result.fail("outputs", str(exc), *_gpio_checks(w))
        return False
    finally:
        for _pin, _kind, device in devices:
            device.off()  # closing alone may leave a lit LED on some pin factories
            device.close()
    listed = ", ".join(f"GPIO{p} {k}" for p, k, _ in devices)
    return result.step("outputs", True, f"switched on for {light_s:g} s: {listed}")


def run(
    cfg: Config,
    unit_id: str | None,
    *,
    timeout: float = 30.0,
    light_s: float = 1.5,
    progress: Progress = quiet,
    environ: dict[str, str] | None = None,
) -> SelfTest:
    w = wiring(cfg, unit_id)
    result = SelfTest("buttons", w.unit, progress)
    name = factory_name(w.pin_factory, environ)
    result.details.update(
        role=w.role, pin_factory=name, buttons={str(p): n for p, n in w.buttons.items()}
    )
    progress(f"{w.role} {w.unit}: {len(w.buttons)} button(s), pin factory {name}")
    warn_if_running(result, w.role)
    try:
        factory = pin_factory(w.pin_factory, environ)
    except HardwareError as exc:
        return result.fail("gpio", str(exc), *_gpio_checks(w))
    if w.outputs:
        if not _show_outputs(factory, w, result, light_s):
            return result
    else:
        result.step("outputs", True, "none configured on this unit")
    pressed: dict[int, float] = {}
    done = threading.Event()
    lock = threading.Lock()
    start = time.monotonic()
    by_name = {f"pin{p}": p for p in w.buttons}
    if not w.buttons:
        result.step("buttons", True, "none configured on this unit")
        return result

    def on_event(event: ButtonEvent) -> None:
        pin = by_name[event.button]
        with lock:
            first = pin not in pressed
            if first:
                pressed[pin] = time.monotonic() - start
            if len(pressed) == len(w.buttons):
                done.set()
        if first:
            result.step(f"pin {pin} ({w.buttons[pin]})", True, "pressed")

    try:
        board = ButtonBoard(by_name, on_event, factory=factory, debounce=w.debounce_s, cooldown=0)
    except (HardwareError, ConfigError) as exc:
        return result.fail("gpio", str(exc), *_gpio_checks(w))
    try:
        progress(f"  press each button once within {timeout:g} s:")
        for pin, what in sorted(w.buttons.items()):
            progress(f"    GPIO{pin}: {what}")
        done.wait(timeout)
    finally:
        board.close()
    with lock:
        missing = sorted(set(w.buttons) - set(pressed))
        result.details["pressed"] = {str(p): round(t, 2) for p, t in sorted(pressed.items())}
    for pin in missing:
        result.step(f"pin {pin} ({w.buttons[pin]})", False, "not pressed")
    if missing:
        pins = ", ".join(f"GPIO{p}" for p in missing)
        result.fail(
            "buttons",
            f"{len(missing)} of {len(w.buttons)} not pressed within {timeout:g} s: {pins}",
            f"the wiring of {pins}: one leg of each button to its pin, the other to a "
            "ground pin (docs/wiring.md); a loose crimp or the wrong header pin is the "
            "usual cause",
        )
    return result
