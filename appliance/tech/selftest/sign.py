"""`nidaa test display`: the counter's LED number display.

Pings the board, lights every segment ("8." on each digit), shows the
counter's window number, blinks it, sweeps the brightness and clears it,
each through the counter daemon's own driver.  With Nidaa's firmware every
command must be acknowledged; with a vendor display (no answers) the
technician's eyes are the test, and the output says so.
"""

from __future__ import annotations

import time

from ...config.branch import Config
from ...counter.config import DisplayConfig
from ...counter.units import select_unit
from ...drivers.sign import DisplayError, open_display
from ...errors import ConfigError
from .hints import access_problem, stop_daemon, warn_if_running
from .result import Progress, SelfTest, quiet


def _checks(fault: str, d: DisplayConfig) -> list[str]:
    port = d.port if d.backend == "serial" else "the simulated board"
    if fault in ("port_missing", "port_gone"):
        where = access_problem(d.port) or f"`ls -l {d.port}`"
        if "ttyAMA" in d.port or "ttyS" in d.port:  # the Pi's own UART, not a USB adapter
            return [
                f"the Pi's serial port: {where}",
                "enable it: `sudo raspi-config` > Interface Options > Serial Port "
                "(no login shell, hardware port on), then reboot",
                "the RS-485 transceiver on GPIO 14/15 and its power",
            ]
        return [
            f"the USB-RS485 adapter: {where}",
            "`ls /dev/serial/by-id/` lists the adapter; unplug and plug it back",
        ]
    if fault == "port_busy":
        return [stop_daemon("counter"), f"`fuser -v {port}` shows who holds the port"]
    if fault == "no_ack":
        return [
            "the display's power (its LEDs light at power-on)",
            "the RS-485 pair: A to A, B to B (swap them if unsure), ground joined",
            f"the display's address (configured {d.address}) and speed "
            f"({d.baudrate} baud {d.parity}{d.stopbits}) on its DIP switches or firmware",
        ]
    if fault == "nak":
        return [
            "a display refusing with 'bad checksum' hears noise: twisted pair, 120 Ω "
            "termination at the far end, one ground",
            "a display refusing the data runs other firmware: protocol 'vendor'?",
        ]
    if fault == "rs485":
        return ["this adapter has no kernel RS-485 mode: set display.rs485 = 'auto' or 'off'"]
    return []


def run(
    cfg: Config, unit_id: str | None, *, pause_s: float = 1.0, progress: Progress = quiet
) -> SelfTest:
    unit = select_unit(cfg, unit_id)
    d = unit.display
    if d.backend == "none":
        raise ConfigError(
            [("display.backend", f"counter unit {unit.unit} has no display ('none')")]
        )
    window = cfg.counter(unit.counter).number
    result = SelfTest("display", unit.unit, progress)
    where = d.port if d.backend == "serial" else "simulated board"
    result.details.update(
        backend=d.backend, port=where, protocol=d.protocol, address=d.address, window=window
    )
    progress(f"display of {unit.unit}: {d.protocol} address {d.address} on {where}")
    warn_if_running(result, "counter")
    acked = d.protocol == "nidaa"
    answered = "acknowledged" if acked else "sent (look: this display never answers)"
    if not acked:
        result.warn(
            "a vendor display does not answer: this test can only prove the frames were "
            "written; the patterns you see on the display are the real result"
        )
    step = "ping"
    try:
        display = open_display(d)
    except DisplayError as exc:
        return result.fail(step, str(exc), *_checks(exc.fault, d))
    assert display is not None
    try:
        if acked:
            result.step(step, True, f"answered {display.ping()!r}")
        step = "all segments"
        display.brightness(15)
        display.show_text("8." * d.digits)
        result.step(step, True, f"{'8.' * d.digits} {answered}: every segment and dot lit?")
        time.sleep(pause_s)  # time to look; the display has already taken it
        step = "window number"
        display.show_number(str(window))
        result.step(step, True, f"{window} {answered}: this counter's window number")
        time.sleep(pause_s)
        if acked:  # the vendor protocol has no blink and no brightness
            step = "blink"
            display.blink(3)
            result.step(step, True, f"3 blinks {answered}")
            time.sleep(pause_s)
            step = "brightness"
            for level in (0, 4, 8, 12, 15):
                display.brightness(level)
                time.sleep(pause_s / 5)
            display.brightness(d.brightness)
            result.step(step, True, f"0 → 15, back to {d.brightness}, {answered}")
        step = "clear"
        display.clear()
        result.step(step, True, f"{answered}: the display is dark")
    except DisplayError as exc:
        return result.fail(step, str(exc), *_checks(exc.fault, d))
    finally:
        display.close()
    return result
