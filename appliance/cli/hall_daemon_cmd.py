"""`nidaa display`: the hall display daemon (or one screenshot)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import signal
import time
from typing import Any
from zoneinfo import ZoneInfo

from ..config.branch import load_config
from ..hall.units import display_unit
from ..systemd import Notifier
from .common import add_bus_options
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser("display", help="run the hall display: calls on screen, spoken aloud")
    add_bus_options(p, json_output=False)
    p.add_argument("--unit", help="display unit id (needed when the branch has several)")
    p.add_argument(
        "--screenshot", metavar="PNG", help="render one frame with sample data to PNG and exit"
    )
    p.add_argument("--headless", action="store_true", help="draw off-screen (no monitor)")
    p.add_argument("--shots", metavar="DIR", help="save a PNG of the screen at each new call")
    p.add_argument(
        "--record-audio", metavar="DIR", help="write each announcement as a WAV file to DIR"
    )
    p.add_argument(
        "--calls-log",
        metavar="FILE",
        help="append one JSON line per call when a frame first shows it (chaos and load runs)",
    )
    p.add_argument(
        "--max-calls",
        type=int,
        metavar="N",
        help="with --shots/--record-audio: keep the files of the first N calls only",
    )
    p.set_defaults(func=display)


def display(args: argparse.Namespace, env: Environment) -> int:
    from ..hall.daemon import HallDisplay

    cfg = load_config(args.config)
    unit = display_unit(cfg, args.unit)
    speaker = None
    if args.record_audio:
        from ..drivers.sound.recorder import RecordingSpeaker

        unit = dataclasses.replace(unit, audio="record", record_dir=args.record_audio)
        speaker = RecordingSpeaker(args.record_audio, max_files=args.max_calls)
    if args.screenshot or args.headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    if args.screenshot:
        return screenshot(cfg, unit, args.screenshot, env)
    hall = HallDisplay(
        cfg,
        unit,
        broker_url=args.broker,
        headless=args.headless,
        speaker=speaker,
        shots_dir=args.shots,
        max_shots=args.max_calls,
        calls_log=args.calls_log,
    )

    def on_signal(signum: int, frame: Any) -> None:
        hall.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    notifier = Notifier(env.environ)
    hall.start()
    for fault in hall.faults:
        env.err(f"degraded: {fault['message']}")
    size = "×".join(map(str, hall.screen.size))
    notifier.ready(f"display {unit.id} {size}, audio {unit.audio if hall.announcer else 'none'}")
    try:
        # The drawing loop wakes at least once a second: it feeds the watchdog.
        hall.run(on_iteration=notifier.alive)
    finally:
        notifier.stopping("display stopping")
        hall.stop()
    return ExitCode.OK


def screenshot(cfg: Any, unit: Any, path: str, env: Environment) -> int:
    from ..hall.daemon import HallDisplay
    from ..hall.sample import sample_snapshot

    # No sound and no bus: one frame of sample data.
    hall = HallDisplay(cfg, dataclasses.replace(unit, audio="none"), headless=True, connect=False)
    wall = dt.datetime.now(ZoneInfo(cfg.branch.timezone))
    hall.draw(sample_snapshot(cfg), time.monotonic(), wall)
    import pygame

    pygame.image.save(hall.surface, path)
    env.out(f"{path}: {hall.surface.get_width()}×{hall.surface.get_height()}")
    return ExitCode.OK
