"""Measurements of the hall display for ``nidaa bench``.

* ``display_frame_ms``: one whole frame at 1920×1080 (busy sample hall, a
  flashing call), median of repeated frames once the text cache is warm, as
  the drawing loop pays it each time something changes (target < 16 ms).
  ``display_first_frame_ms`` is the same frame with every text still to be
  shaped and rasterized (the first frame after start-up).
* ``call_to_announce_ms``: from a call event handed to the display's bus
  handler (JSON included) to the first sample of its announcement queued on
  the sound device (pygame mixer; SDL's disk driver when no card is set);
  median of several calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from ..config import Config, load_config

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "branch.example.toml"


def _headless_sdl(tmp: str) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "disk")
    os.environ.setdefault("SDL_DISKAUDIOFILE", str(Path(tmp) / "sdl-audio.raw"))


def display_frame_ms(cfg: Config, frames: int = 30) -> tuple[float, float]:
    """``(first frame, median warm frame)`` in milliseconds at 1920×1080."""
    import pygame

    from .config import display_unit
    from .daemon import display_renderer
    from .sample import sample_snapshot
    from .screen import Screen

    pygame.display.init()
    surface = pygame.display.set_mode((1920, 1080))
    unit = display_unit(cfg)
    screen = Screen(cfg, unit, (1920, 1080), display_renderer(unit))
    snap = sample_snapshot(cfg, flashing=True)
    wall = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    screen.render(snap, wall, time.monotonic(), surface)
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        screen.render(snap, wall, time.monotonic(), surface)
        times.append((time.perf_counter() - start) * 1000)
    pygame.display.quit()
    return first, statistics.median(times)


def call_to_announce_ms(cfg: Config, calls: int = 5) -> float:
    """Median milliseconds from a call event to its first audio sample queued."""
    from ..bus.client import Message
    from ..bus.topics import Topics
    from .config import display_unit
    from .daemon import HallDisplay

    unit = dataclasses.replace(display_unit(cfg), audio="pygame", languages=["ar"])
    topic = Topics(cfg.branch.id).event("call")
    results = []
    for i in range(calls):
        hall = HallDisplay(cfg, unit, headless=True, connect=False)
        if hall.announcer is None:
            raise RuntimeError(f"no audio output for the benchmark: {hall.faults}")
        hall.start()
        payload = {"id": f"bench-{i}", "ticket": f"A{100 + i}", "window": 4, "recall": 0}
        msg = Message(topic, json.dumps(payload).encode())
        start = time.monotonic()
        hall.handle_call(msg)
        if not hall.announcer.wait_started(1, 10):
            raise RuntimeError("the announcement never started")
        call = hall.state.snapshot().calls[0]
        results.append((call.received - start) * 1000 + hall.announcer.latencies_ms[0])
        hall.stop()  # interrupts the playing announcement
    return statistics.median(results)


def bench_display(config: Config | None = None) -> dict[str, float]:
    """The display's entries for ``nidaa bench``."""
    cfg = config or load_config(EXAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        _headless_sdl(tmp)
        first, frame = display_frame_ms(cfg)
        announce = call_to_announce_ms(cfg)
    return {
        "display_frame_ms": round(frame, 2),
        "display_first_frame_ms": round(first, 2),
        "call_to_announce_ms": round(announce, 2),
    }
