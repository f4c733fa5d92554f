"""`nidaa kiosk` as a real process, the virtual-branch hook, start-up errors."""

from __future__ import annotations

import io
import signal
import time
from pathlib import Path

from PIL import Image, ImageChops

from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.clock import ScaledClock
from appliance.drivers.printer import decode_raster
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import Daemon, wait_until
from appliance.sim.hooks import DemoContext, DemoOptions
from appliance.sim.roles.kiosk import KioskDemo
from tests.support import EXAMPLE_CONFIG, running_branch


def test_kiosk_process_comes_online_and_stops_cleanly(tmp_path: Path, broker: Mosquitto) -> None:
    with running_branch(tmp_path, broker.url) as b:
        topic = b.config_topics().status("kiosk", "k1")
        b.watch.watch(topic)
        kiosk = Daemon(
            ["kiosk", "--config", str(b.config_path), "--simulate-hardware", str(tmp_path / "t")],
            tmp_path / "kiosk.log",
        ).start()
        try:
            # The first "online" may come before the printer's first status
            # (a loaded machine): wait for both, then check them together.
            def ready() -> bool:
                status = b.watch.latest(topic) or {}
                return status.get("state") == "online" and "printer" in status

            assert wait_until(ready, 30), kiosk.log()
            assert b.watch.latest(topic)["printer"]["state"] == "ready"  # type: ignore[index]
            kiosk.signal(signal.SIGTERM)
            assert kiosk.proc is not None and kiosk.proc.wait(15) == 0
            assert wait_until(lambda: (b.watch.latest(topic) or {}).get("state") == "offline", 10)
        finally:
            kiosk.stop()


def run_cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = run(list(argv), Environment(stdout=io.StringIO(), stderr=err))
    return code, err.getvalue()


def test_bad_configurations_fail_at_start_up(tmp_path: Path, broker: Mosquitto) -> None:
    example = EXAMPLE_CONFIG
    text = example.read_text(encoding="utf-8")
    twice = tmp_path / "twice.toml"
    twice.write_text(text.replace("buzzer_pin = 27", "buzzer_pin = 26"), encoding="utf-8")
    code, err = run_cli("kiosk", "--config", str(twice), "--broker", broker.url)
    assert code == 3 and "GPIO26 is used more than once" in err

    no_printer = tmp_path / "serial.toml"
    no_printer.write_text(
        text.replace(
            'backend = "usb"', 'backend = "serial"\nserial_port = "/dev/ttyNIDAA9"'
        ).replace('pin_factory = "lgpio"', 'pin_factory = "mock"'),
        encoding="utf-8",
    )
    code, err = run_cli("kiosk", "--config", str(no_printer), "--broker", broker.url)
    assert code == 6 and "/dev/ttyNIDAA9 does not exist" in err

    missing_section = tmp_path / "serial-only.toml"
    missing_section.write_text(text.replace('backend = "usb"', ""), encoding="utf-8")
    code, err = run_cli("kiosk", "--config", str(missing_section))
    assert code == 3 and "kiosks[0].printer.backend: is required" in err


def test_demo_hook_prints_tickets_as_png(tmp_path: Path, broker: Mosquitto) -> None:
    with running_branch(tmp_path, broker.url) as b:
        options = DemoOptions(config=b.config_path, out=tmp_path / "demo", per_hour=3600 * 4)
        # A day 600 times faster than real time: four citizens a real second.
        clock = ScaledClock(time.time(), 600.0 / 60)
        ctx = DemoContext(options, b.config, b.config_path, broker.url, clock, options.out)
        demo = KioskDemo(ctx, per_hour=3600 * 4 / 10, seed=3)
        try:
            assert wait_until(lambda: demo.printed >= 3, 30)
        finally:
            demo.stop()
        folder = options.out / "tickets" / "k1"
        pngs = sorted(folder.glob("ticket-*.png"))
        assert len(pngs) >= 3
        for png in pngs:
            printed = decode_raster(png.with_suffix(".bin").read_bytes())
            saved = Image.open(png)
            assert saved.width == 576  # the example kiosk's 80 mm profile
            diff = ImageChops.difference(saved.convert("L"), printed.convert("L"))
            assert diff.getbbox() is None
        issued = b.snapshot()["services"]
        assert sum(s["waiting"] for s in issued) == demo.printed


def test_bench_kiosk_reports_its_figures() -> None:
    import math

    from appliance.sim.bench.kiosk import bench_kiosk

    figures = bench_kiosk(presses=3)
    assert set(figures) == {
        "kiosk_render_58mm_ms",
        "kiosk_render_80mm_ms",
        "kiosk_press_to_print_p50_ms",
        "kiosk_press_to_print_p99_ms",
        "kiosk_rss_mb",
    }
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    assert figures["kiosk_press_to_print_p99_ms"] >= figures["kiosk_press_to_print_p50_ms"]
