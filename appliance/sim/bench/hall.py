"""Measurements of the hall display for ``nidaa bench``.

* ``display_frame_ms``: one whole frame at 1920×1080 (busy sample hall, a
  flashing call), median of repeated frames once the text cache is warm, as
  the drawing loop pays it each time something changes (target < 16 ms).
  ``display_first_frame_ms`` is the same frame with every text still to be
  shaped and rasterized (the first frame after start-up).
* ``call_to_announce_ms``: from a call event published on the broker (or,
  without one, handed to the display's bus handler) to the first sample of
  its announcement queued on the sound device (pygame mixer; SDL's disk
  driver when no card is set); median of several calls.
* ``display_idle_cpu_pct``: CPU of the process while the screen has nothing
  to change, in percent of one core (near zero: the loop sleeps).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ...config.branch import Config, load_config
from ...config.example import EXAMPLE_PATH

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

EXAMPLE = EXAMPLE_PATH


@contextlib.contextmanager
def _headless_sdl() -> Iterator[None]:
    """No monitor or sound card needed: SDL's dummy video and disk audio
    (unless the caller chose drivers), the audio file in a temporary folder."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "disk")
        os.environ["SDL_DISKAUDIOFILE"] = str(Path(tmp) / "sdl-audio.raw")
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def display_frame_ms(cfg: Config, frames: int = 30) -> tuple[float, float]:
    """``(first frame, median warm frame)`` in milliseconds at 1920×1080."""
    import pygame

    from ...hall.daemon import display_renderer
    from ...hall.sample import sample_snapshot
    from ...hall.screen import Screen
    from ...hall.units import display_unit

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


def call_to_announce_ms(cfg: Config, broker_url: str | None = None, calls: int = 5) -> float:
    """Median milliseconds from a call event to its first audio sample queued.

    With ``broker_url`` the event is published on that broker and the clock
    starts at the publish; without, it starts when the event is handed to
    the display's bus handler.
    """
    from ...bus.client import BusClient, Message, new_command_id
    from ...bus.topics import Topics
    from ...hall.daemon import HallDisplay
    from ...hall.units import display_unit

    unit = dataclasses.replace(display_unit(cfg), audio="pygame", languages=["ar"])
    topic = Topics(cfg.branch.id).event("call")
    tool: BusClient | None = None
    # The display's "online" status is published after its subscriptions, so
    # once it is seen a call event cannot be missed.
    online = threading.Event()
    if broker_url:
        uid = new_command_id("bench-display")
        tool = BusClient(cfg, role="tool", unit=uid, broker_url=broker_url, presence=False)
        tool.subscribe(
            tool.topics.status("display", unit.id),
            lambda m: online.set() if m.json().get("state") != "offline" else None,
        )
        tool.start()
        if not tool.wait_connected(10):
            raise RuntimeError(f"broker {broker_url} unreachable")
    results = []
    try:
        for i in range(calls):
            hall = HallDisplay(
                cfg, unit, headless=True, connect=tool is not None, broker_url=broker_url
            )
            announcer = hall.announcer
            if announcer is None:
                raise RuntimeError(f"no audio output for the benchmark: {hall.faults}")
            online.clear()
            hall.start()
            try:
                if tool is not None and not online.wait(10):
                    raise RuntimeError("the display did not come online")
                payload = {"id": f"bench-{i}", "ticket": f"A{100 + i}", "window": 4}
                start = time.monotonic()
                if tool is not None:
                    tool.publish(topic, payload)
                else:
                    hall.handle_call(Message(topic, json.dumps(payload).encode()))
                if not announcer.wait_started(1, 10):
                    raise RuntimeError("the announcement never started")
                call = hall.state.snapshot().calls[0]
                results.append((call.received - start) * 1000 + announcer.latencies_ms[0])
            finally:
                hall.stop()  # also interrupts the playing announcement
    finally:
        if tool is not None:
            tool.stop()
    return statistics.median(results)


def idle_cpu_percent(cfg: Config, seconds: float = 3.0) -> float:
    """CPU used by the display's drawing loop while nothing changes, in % of one core."""
    from ...hall.daemon import HallDisplay
    from ...hall.units import display_unit

    unit = dataclasses.replace(display_unit(cfg), audio="none", panel_s=600)
    hall = HallDisplay(cfg, unit, headless=True, connect=False)
    loop = threading.Thread(target=hall.run, daemon=True)
    loop.start()
    if hall.wait_frame(lambda s: True, 10) is None:
        raise RuntimeError("the display drew no frame")
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)  # the measurement itself: the loop should sleep too
    used = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
    hall.stop()
    loop.join(5)
    return used


def bench_display(config: Config | None = None, broker_url: str | None = None) -> dict[str, float]:
    """The display's entries for ``nidaa bench`` (see the module doc)."""
    cfg = config or load_config(EXAMPLE)
    with _headless_sdl():
        first, frame = display_frame_ms(cfg)
        announce = call_to_announce_ms(cfg, broker_url)
        idle = idle_cpu_percent(cfg)
    return {
        "display_frame_ms": round(frame, 2),
        "display_first_frame_ms": round(first, 2),
        "call_to_announce_ms": round(announce, 2),
        "display_idle_cpu_pct": round(idle, 2),
    }
