"""CPU time per unit of work, for `nidaa bench`: the figure that travels.

Wall-clock figures depend on the machine and on what else runs on it; the
CPU time a daemon's process spends per ticket does not depend on the load
(much), and scales to a slower machine by its CPU ratio (docs/load.md).

* ``cpu_ms_per_ticket``: process CPU time (every thread, user and system,
  from ``/proc/PID/stat``) over a run divided by the work done:
  the kiosk per ticket printed (a real ``nidaa kiosk`` process pressed
  through simulated pins), the hall per call drawn (a real headless
  ``nidaa display``), the master per command (in :mod:`.run`), the SMS
  gateway per SMS (in :mod:`.sms`).  Idle work during the run (status
  polls, the clock) is included: it is what the machine pays.
* ``rss_mb``: ``kiosk`` and ``display`` after their run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...bus.client import BusClient
from ...hall.units import display_unit
from ..figures import rss_mb
from ..harness.procs import Daemon, wait_until

if TYPE_CHECKING:
    from ..hooks import BenchContext


def process_cpu_ms(pid: int) -> float:
    """CPU time (user and system) used so far by process ``pid``, every
    thread counted, ended ones too, in ms (clock-tick resolution)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15 of the line (11 and 12 after the name).
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _running(ctx: BenchContext, proc: Daemon, role: str, unit: str) -> Iterator[BusClient]:
    """Start ``proc`` and wait for its status online; yields a bus client."""
    tool = BusClient(ctx.config, role="tool", unit=f"bench-cpu-{role}",
                     broker_url=ctx.broker_url, presence=False)  # fmt: skip
    seen: dict[str, Any] = {}
    tool.subscribe(tool.topics.status(role, unit), lambda m: seen.update(m.json()))
    tool.start()
    proc.start()
    try:
        if not wait_until(lambda: seen.get("state") in ("online", "degraded"), 30):
            raise RuntimeError(f"the {role} process did not come up:\n{proc.log()[-2000:]}")
        yield tool
    finally:
        proc.stop()
        tool.stop()


def _per_unit(proc: Daemon, start_ms: float, units: int, name: str, rss: str) -> dict[str, float]:
    used = process_cpu_ms(proc.pid) - start_ms
    return {f"cpu_ms_per_ticket_{name}": round(used / units, 2), f"rss_mb_{rss}": rss_mb(proc.pid)}


def bench_kiosk_process(ctx: BenchContext, tickets: int = 60) -> dict[str, float]:
    """A real kiosk process: ``tickets`` presses, CPU per ticket and RSS."""
    from ...drivers.buttons.sim_pins import ENV, press

    if not ctx.config.kiosks:
        raise RuntimeError("the bench configuration has no [[kiosks]] section")
    kiosk = ctx.config.kiosks[0]
    pins = [b.pin for b in kiosk.buttons if b.service]
    pin_dir = ctx.workdir / "kiosk-pins"
    pin_dir.mkdir(parents=True, exist_ok=True)
    # The citizen's 2 s between presses of a button is not the kiosk's work.
    config = ctx.workdir / "kiosk-cpu.toml"
    text = ctx.config_path.read_text()
    config.write_text(re.sub(r"(?m)^cooldown_s\s*=.*$", "cooldown_s = 0.0", text))
    # An empty --simulate-hardware keeps no ticket files: the simulated
    # printer's PNGs are not the kiosk's work.
    proc = Daemon(
        ["kiosk", "--config", str(config), "--broker", ctx.broker_url,
         "--unit", kiosk.unit, "--simulate-hardware", ""],
        ctx.workdir / "kiosk-cpu.log",
        env={"GPIOZERO_PIN_FACTORY": "sim", ENV: str(pin_dir)},
    )  # fmt: skip
    with _running(ctx, proc, "kiosk", kiosk.unit):

        def printed() -> int:
            return proc.log().count("printed ticket")

        # The same button again only once the kiosk's debounce has passed
        # since its release: sooner, the kiosk rightly takes it for bounce
        # of the same contact, and prints nothing.
        gap = 2 * kiosk.debounce_ms / 1000
        released: dict[int, float] = {}
        start = process_cpu_ms(proc.pid)
        for i in range(tickets):
            pin = pins[i % len(pins)]
            time.sleep(max(0.0, released.get(pin, 0.0) + gap - time.monotonic()))
            if not wait_until(lambda p=pin: press(pin_dir, p, hold_ms=5), 10):
                raise RuntimeError("the kiosk process did not take a press")
            released[pin] = time.monotonic()  # press() answers after the release
            if not wait_until(lambda n=i + 1: printed() >= n, 15):
                raise RuntimeError(f"press {i + 1} printed nothing:\n{proc.log()[-2000:]}")
        return _per_unit(proc, start, tickets, "kiosk", "kiosk")


def bench_hall_process(ctx: BenchContext, calls: int = 200) -> dict[str, float]:
    """A real headless hall display: ``calls`` calls, CPU per call and RSS."""
    cfg = ctx.config
    calls_log = ctx.workdir / "hall-cpu-calls.jsonl"
    proc = Daemon(
        ["display", "--config", str(ctx.config_path), "--broker", ctx.broker_url,
         "--headless", "--calls-log", str(calls_log)],
        ctx.workdir / "hall-cpu.log",
        env={"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    )  # fmt: skip

    def drawn() -> int:
        if not calls_log.exists():
            return 0
        return sum(1 for line in calls_log.read_text().splitlines() if json.loads(line)["id"])

    with _running(ctx, proc, "display", display_unit(cfg).id) as tool:
        start = process_cpu_ms(proc.pid)
        windows = sorted({c.number for c in cfg.counters})
        for i in range(calls):
            # One call every 20 ms: busier than any hall, every number new.
            service = cfg.services[i % len(cfg.services)]
            payload = {"id": f"bench-cpu-{i}", "ticket": f"{service.prefix}{500 + i:03d}",
                       "window": windows[i % len(windows)], "recall": 0}  # fmt: skip
            tool.publish(tool.topics.event("call"), payload, qos=1)
            wait_until(lambda n=i + 1: drawn() >= n, 0.02)
        if not wait_until(lambda: drawn() >= calls, 60):
            raise RuntimeError(f"the display drew {drawn()} of {calls} calls")
        return _per_unit(proc, start, calls, "hall", "display")


def bench_cpu(ctx: BenchContext) -> dict[str, float]:
    """The hook for :func:`.run._bench_hooks`."""
    result = bench_kiosk_process(ctx)
    result.update(bench_hall_process(ctx))
    return result
