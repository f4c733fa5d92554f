"""``bench_counter()``: from the clerk's button edge to the display's ACK.

A private Mosquitto, the master as a real process, and a counter daemon in
this process on MockFactory pins with the simulated display (the firmware
code on a pty).  Each sample: drive the "next" pin low, and stop the clock
when the display acknowledges the frame showing the called number.  The path
is the production one: gpiozero callback → MQTT v5 request → master (SQLite
commit) → retained counter state → the display keeper → NDP/1 frame → pty →
firmware → ACK.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ...bus.client import BusClient, new_command_id
from ...config.branch import load_config
from ...config.example import EXAMPLE_PATH
from ...counter.screen import View
from ...errors import NidaaError
from ..figures import percentile
from ..harness import unthrottled
from ..harness.broker import Mosquitto
from ..harness.procs import Daemon, wait_until

EXAMPLE = EXAMPLE_PATH

BENCH_UNIT = """
[[counter_units]]
unit = "bench-counter"
counter = "{counter}"
pin_factory = "mock"
next_guard_s = 0
debounce_ms = 0
buttons = [{{ pin = 5, press = "next" }}]
display = {{ backend = "simulated", digits = 4, timeout_ms = 1000 }}
"""


def _first_call_of(digits: str) -> Callable[[View], bool]:
    def match(view: View) -> bool:
        return view.call is not None and view.call[1] == 0 and view.text.endswith(digits)

    return match


def bench_counter(samples: int = 40, config: Path = EXAMPLE) -> dict[str, float]:
    """``counter_press_to_display_p50_ms`` and ``_p99_ms`` over ``samples`` presses."""
    from gpiozero.pins.mock import MockFactory

    from ...counter.daemon import CounterDaemon

    with tempfile.TemporaryDirectory(prefix="nidaa-bench-counter-") as tmp:
        out = Path(tmp)
        base = load_config(config)
        counter = next(c for c in base.counters if len(c.services) == 1 and not c.priority)
        service = counter.services[0]
        text = config.read_text(encoding="utf-8")
        with Mosquitto(out / "broker") as broker:
            cfg_path = out / "branch.toml"
            cfg_path.write_text(
                unthrottled(text.replace(base.broker.url, broker.url))
                + BENCH_UNIT.format(counter=counter.id),
                encoding="utf-8",
            )
            cfg = load_config(cfg_path)
            master = Daemon(
                ["master", "--config", str(cfg_path), "--db", str(out / "master.db")],
                out / "master.log",
            ).start()
            tool = BusClient(cfg, role="tool", unit="bench-tool", presence=False)
            daemon = CounterDaemon(cfg, "bench-counter", pin_factory=MockFactory())
            try:
                tool.start()
                if not tool.wait_connected(10):
                    raise NidaaError("benchmark: the broker did not answer")
                for _ in range(samples):
                    # Retried with the same id until the master is up and answers.
                    tool.request(
                        tool.topics.ticket_cmd(tool.sender, "issue"),
                        {"id": new_command_id("bench"), "service": service, "priority": False},
                        timeout=1,
                        attempts=20,
                    )
                daemon.start()
                keeper = daemon.keeper
                assert keeper is not None
                if not wait_until(
                    lambda: daemon.view().text == cfg.counter_units[-1].display.closed_text, 15
                ):
                    raise NidaaError(f"benchmark: the counter did not start\n{master.log()}")
                pin = daemon.pin_factory.pin(5)
                latencies = []
                for i in range(samples):
                    pressed = time.monotonic()
                    pin.drive_low()
                    seen = keeper.wait_shown(_first_call_of(f"{i + 1:03d}"), 15)
                    pin.drive_high()
                    if seen is None:
                        raise NidaaError(f"benchmark: call {i + 1} never reached the display")
                    acked = next(t for t, v in reversed(keeper.acked) if v == seen)
                    latencies.append((acked - pressed) * 1000)
            finally:
                daemon.stop()
                tool.stop()
                master.stop()
    return {
        "counter_press_to_display_p50_ms": round(statistics.median(latencies), 2),
        "counter_press_to_display_p99_ms": round(percentile(latencies, 99), 2),
    }
