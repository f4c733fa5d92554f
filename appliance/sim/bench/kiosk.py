"""The kiosk's figures for `nidaa bench`.

* ``kiosk_render_58mm_ms`` / ``kiosk_render_80mm_ms``: median time to draw
  one ticket (384 / 576 dots wide);
* ``kiosk_press_to_print_p50_ms`` / ``_p99_ms``: from the button edge (a
  MockFactory pin driven low) to the last byte handed to the simulated
  printer, through the real broker and master;
* ``kiosk_rss_mb``: resident memory of a real `nidaa kiosk` process after
  start-up (fonts loaded, a ticket rendered); the target is at most 60 MB.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config.branch import Config, load_config
from ...config.example import EXAMPLE_PATH
from ...kiosk.config import KioskUnit, default_kiosk, simulated
from ...kiosk.ticket import render_ticket, sample_face
from ..figures import percentile_ms, rss_mb
from ..harness.procs import Daemon, wait_until

if TYPE_CHECKING:
    from ..hooks import BenchContext

EXAMPLE = EXAMPLE_PATH


def bench_render(cfg: Config, rounds: int = 10) -> dict[str, float]:
    face = sample_face(cfg, cfg.services[0].id, priority=True)
    out: dict[str, float] = {}
    for mm, width in ((58, 384), (80, 576)):
        render_ticket(cfg, face, width)  # fonts loaded outside the timing
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            render_ticket(cfg, face, width)
            times.append(time.perf_counter() - start)
        out[f"kiosk_render_{mm}mm_ms"] = round(statistics.median(times) * 1000, 2)
    return out


def _unit(cfg: Config) -> KioskUnit:
    base = cfg.kiosks[0] if cfg.kiosks else default_kiosk(cfg)
    # No cooldown: the benchmark presses faster than a citizen would.
    return replace(simulated(base), cooldown_s=0.0, unit="bench-kiosk")


def bench_press_to_print(cfg: Config, broker_url: str, presses: int) -> dict[str, float]:
    from gpiozero.pins.mock import MockFactory

    from ...kiosk.daemon import KioskDaemon

    unit = _unit(cfg)
    factory = MockFactory()  # its own pins, apart from any other mock user
    kiosk = KioskDaemon(cfg, unit, broker_url=broker_url, factory=factory)
    kiosk.start()
    try:
        if not wait_until(lambda: kiosk.master_online is True, 20):
            raise RuntimeError("the benchmark kiosk does not see the master online")
        pins = [b.pin for b in unit.buttons if b.service]
        for i in range(presses):
            pin = factory.pin(pins[i % len(pins)])
            pin.drive_low()
            pin.drive_high()
            if not wait_until(lambda n=i + 1: len(kiosk.counts.history) >= n, 15):
                raise RuntimeError(f"press {i + 1} was not printed: {kiosk.faults()}")
        latencies = [p.printed_at - p.pressed_at for p in kiosk.counts.history]
    finally:
        kiosk.stop()
        factory.close()
    return {
        "kiosk_press_to_print_p50_ms": percentile_ms(latencies, 50, 2),
        "kiosk_press_to_print_p99_ms": percentile_ms(latencies, 99, 2),
    }


def bench_rss(config_path: Path, broker_url: str, workdir: Path) -> dict[str, float]:
    cfg = load_config(config_path)
    from ...bus.client import BusClient

    unit = cfg.kiosks[0].unit if cfg.kiosks else "k1"
    proc = Daemon(
        ["kiosk", "--config", str(config_path), "--broker", broker_url, "--unit", unit,
         "--simulate-hardware", str(workdir / "kiosk-tickets")],
        workdir / "kiosk.log",
    )  # fmt: skip
    watch = BusClient(cfg, role="tool", unit="bench-watch", broker_url=broker_url, presence=False)
    seen: dict[str, Any] = {}
    watch.subscribe(watch.topics.status("kiosk", unit), lambda m: seen.update(m.json()))
    watch.start()
    proc.start()
    try:
        if not wait_until(lambda: seen.get("state") in ("online", "degraded"), 30):
            raise RuntimeError(f"the kiosk process did not come up:\n{proc.log()[-2000:]}")
        return {"kiosk_rss_mb": rss_mb(proc.pid)}
    finally:
        proc.stop()
        watch.stop()


def bench_kiosk(ctx: BenchContext | None = None, presses: int = 30) -> dict[str, float]:
    """All kiosk figures.  With ``ctx`` (from `nidaa bench`) the running broker
    and master are used; without, a private broker and master are started."""
    with ExitStack() as stack:
        if ctx is not None:
            cfg, config_path, url = ctx.config, ctx.config_path, ctx.broker_url
            # Each press renders and "prints" a whole ticket: 100 are plenty.
            work, presses = ctx.workdir, max(presses, min(ctx.samples, 100))
        else:
            from ..harness.broker import Mosquitto

            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nidaa-kb-")))
            broker = stack.enter_context(Mosquitto(work / "broker"))
            url = broker.url
            config_path = EXAMPLE
            cfg = load_config(config_path)
            master = Daemon(
                ["master", "--config", str(config_path), "--broker", url,
                 "--db", str(work / "master.db")],
                work / "master.log",
            ).start()  # fmt: skip
            stack.callback(master.stop)
        presses = min(presses, 256)  # the kiosk keeps its latest 256 tickets
        result = bench_render(cfg)
        result.update(bench_press_to_print(cfg, url, presses))
        result.update(bench_rss(config_path, url, work))
        return result
