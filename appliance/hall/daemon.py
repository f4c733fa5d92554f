"""The hall display daemon: bus → hall state → screen, and calls → announcer.

Threads: paho's network thread runs the handlers (parse, update the state,
queue the announcement: nothing that blocks); the announcer thread plays
sound; the drawing loop (the main thread on a real screen) redraws only when
the state changed or the picture must change by itself (the clock's minute,
the flash of a new call, the rotating panel), and otherwise sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from ..arabic import ARABIC_FONTS, FONT_DIRS, ArabicRenderer, find_font
from ..bus.client import BusClient, Message
from ..bus.presence import MasterWatch
from ..config.branch import Config
from ..drivers.sound import Speaker, open_speaker
from ..errors import HardwareError
from .announcer import Announcer, CallRequest
from .config import DisplayUnit
from .state import HallSnapshot, HallState, call_from_event
from .voice import CallVoice

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

log = logging.getLogger(__name__)

# Bold sans is the legible face from the back of a hall; Naskh is the fallback.
DISPLAY_FONTS = ("NotoSansArabic-Regular.ttf", *ARABIC_FONTS)
HEADLESS_SIZE = (1920, 1080)
WINDOWED_SIZE = (1280, 720)
# Longest sleep of the drawing loop: keyboard/window events are read this often.
IDLE_WAKE_S = 1.0
#: The shortest time between two frames drawn for states (counts, counters,
#: the master's presence): a screen shows 60 a second, and frames drawn
#: faster are never seen but cost a Pi's CPU (on a busy day each ticket
#: sends the hall several states).  A call is drawn at once.
FRAME_S = 1 / 60
#: The interpreter's thread switch interval while the drawing loop runs.
#: paho's network thread needs the GIL for every read of a packet; with
#: Python's default 5 ms it waits that long each time the drawing thread
#: holds it, several times a message.  Traced on a 3,000-ticket busy day:
#: a call reached the display's handler 31 ms (p50) / 261 ms (p99) after
#: another subscriber of the same broker got it; 6 / 61 ms at 1 ms.
SWITCH_INTERVAL_S = 0.001


def display_renderer(unit: DisplayUnit, font_dirs: Sequence[Path] = FONT_DIRS) -> ArabicRenderer:
    """The shared Arabic renderer with the display's font.

    A missing font raises :class:`FontNotFoundError` naming the file or the
    package to install."""
    if unit.font:
        return ArabicRenderer(unit.font, font_dirs=font_dirs)
    return ArabicRenderer(find_font(DISPLAY_FONTS, font_dirs), font_dirs=font_dirs)


class HallDisplay:
    """One display unit.  ``headless`` draws off-screen (tests, demo, screenshots)."""

    def __init__(
        self,
        cfg: Config,
        unit: DisplayUnit,
        *,
        broker_url: str | None = None,
        headless: bool = False,
        connect: bool = True,
        speaker: Speaker | None = None,
        shots_dir: str | Path | None = None,
        max_shots: int | None = None,
        calls_log: str | Path | None = None,
        keep_frames: bool = True,
    ) -> None:
        from .screen import Screen

        self.cfg = cfg
        self.unit = unit
        self.headless = headless
        self.tz = ZoneInfo(cfg.branch.timezone)
        self.shots_dir = Path(shots_dir) if shots_dir else None
        self.max_shots = max_shots
        #: Headless: keep a copy of each frame for wait_frame (tests, demo);
        #: a process nobody waits on (`nidaa display --headless`) keeps none.
        self.keep_frames = keep_frames
        self.frame_s = FRAME_S
        self.faults: list[dict[str, str]] = []
        self._masters = MasterWatch.of(cfg)
        self._wake = threading.Event()
        self._call_wake = threading.Event()  #: a call came (ends a frame's wait)
        self._stop = threading.Event()
        self._frame_lock = threading.Condition()
        self.frames = 0
        self.last_frame: pygame.Surface | None = None
        self.last_snapshot = HallSnapshot()
        self.shots: list[Path] = []
        self._shot_keys: deque[str] = deque(maxlen=64)
        #: Every call drawn, as JSON lines: what the hall saw (survives kill -9),
        #: and when (monotonic, comparable with another process's clock).
        self.calls_log = Path(calls_log) if calls_log else None
        self._logged: deque[str] = deque(maxlen=256)
        # Acknowledgements waiting for a frame: each once the calls received
        # before it (its own among them) are all on screen.
        self._to_ack: list[tuple[int, Callable[[], None]]] = []
        self._ack_lock = threading.Lock()
        self._drawing = False  # run() is drawing frames

        # Everything that can be missing is checked before anything starts.
        renderer = display_renderer(unit)
        self.announcer = self._announcer(speaker)
        self.state = HallState(
            cfg, keep_calls=unit.last_calls, services=unit.services, on_change=self._wake.set
        )
        self.surface: pygame.Surface
        if headless:
            size = (unit.width, unit.height) if unit.width else HEADLESS_SIZE
            self.surface = pygame.Surface(size)
        else:
            self.surface = self._open_screen()
        self.screen = Screen(cfg, unit, self.surface.get_size(), renderer)
        self.bus: BusClient | None = None
        if connect:
            # A persistent session: a call made while the display restarts is
            # queued by the broker and shown once it is back, not lost.
            # Calls are acknowledged only once drawn (see run()): a display
            # killed between receiving a call and drawing it gets it again.
            self.bus = BusClient(cfg, role="display", unit=unit.id, broker_url=broker_url,
                                 persistent=True, manual_ack=True)  # fmt: skip

    def _announcer(self, speaker: Speaker | None) -> Announcer | None:
        if self.unit.audio == "none" and speaker is None:
            return None
        folders = {"ar": self.unit.voice_pack_ar, "en": self.unit.voice_pack_en}
        voice = CallVoice.load(self.unit.languages, self.unit.letters, folders)
        if speaker is not None:
            speaker.open(voice.rate)
        else:
            try:
                speaker = open_speaker(
                    self.unit.audio,
                    voice.rate,
                    record_dir=self.unit.record_dir,
                    volume=self.unit.volume,
                )
            except HardwareError as exc:
                log.error("announcements disabled, screen only: %s", exc)
                self.faults.append({"code": "no_audio", "message": str(exc)})
                return None
        return Announcer(voice, speaker, on_fault=self._audio_fault)

    def _audio_fault(self, message: str) -> None:
        """A failed announcement: tell the technician through the status (once)."""
        if any(f["code"] == "audio_failed" for f in self.faults):
            return
        self.faults.append({"code": "audio_failed", "message": message})
        if self.bus is not None:
            speaker = self.announcer.speaker.name if self.announcer else "none"
            self.bus.set_status("degraded", self.faults, audio=speaker, size=list(self.screen.size))

    def _open_screen(self) -> pygame.Surface:
        try:
            pygame.display.init()
        except pygame.error as exc:
            raise HardwareError(f"no screen: {exc}") from exc
        flags = pygame.FULLSCREEN if self.unit.fullscreen else 0
        size = (self.unit.width, self.unit.height)
        if size == (0, 0) and not self.unit.fullscreen:
            size = WINDOWED_SIZE
        try:
            surface = pygame.display.set_mode(size, flags)
        except pygame.error as exc:
            raise HardwareError(f"cannot open the screen: {exc}") from exc
        pygame.display.set_caption("Nidaa")
        pygame.mouse.set_visible(False)
        return surface

    # -- bus ----------------------------------------------------------------
    def start(self) -> None:
        if self.announcer is not None:
            self.announcer.start()
        if self.bus is None:
            return
        t = self.bus.topics
        self.bus.subscribe(t.event("call"), self.handle_call, defer_ack=True)
        self.bus.subscribe(t.all_counter_states, self._on_counter)
        self.bus.subscribe(t.all_service_states, self._on_service)
        self.bus.subscribe(t.all_status, self._on_status)
        speaker = self.announcer.speaker.name if self.announcer else "none"
        state = "degraded" if self.faults else "online"
        self.bus.set_status(state, self.faults, audio=speaker, size=list(self.screen.size))
        self.bus.start()

    def handle_call(self, msg: Message) -> None:
        """``event/call``: show it and queue it for the announcer (never blocks)."""
        try:
            call = call_from_event(msg.json())
        except ValueError as exc:
            log.warning("ignored a malformed call event: %s", exc)
            call = None
        if call is not None and self.state.add_call(call):
            self._call_wake.set()
            if self.announcer is not None:
                self.announcer.submit(
                    CallRequest(call.ticket, call.window, call.event_id, call.recall, call.received)
                )
        if msg.ack is not None:
            with self._ack_lock:
                if self._drawing:  # acknowledged once a frame shows it
                    self._to_ack.append((self.state.received, msg.ack))
                else:  # no drawing loop (bench, screenshots): nothing to wait for
                    msg.ack()

    def _on_counter(self, msg: Message) -> None:
        if msg.payload:
            self.state.set_counter(msg.json(), retained=msg.retain)

    def _on_service(self, msg: Message) -> None:
        if msg.payload:
            self.state.set_service(msg.json())

    def _on_status(self, msg: Message) -> None:
        assert self.bus is not None
        role, unit = self.bus.topics.parse_status(msg.topic)
        if role != "master" or not msg.payload:
            return
        state = msg.json().get("state")
        if self.cfg.ha is None:
            self.state.set_master(state != "offline")
        elif unit in self._masters.units:  # a standby: while one candidate is active
            self.state.set_master(self._masters.update(unit, state))

    # -- drawing ------------------------------------------------------------
    def draw(self, snap: HallSnapshot, mono: float, wall: dt.datetime) -> None:
        self.screen.render(snap, wall, mono, self.surface)
        if not self.headless:
            pygame.display.flip()
        with self._frame_lock:
            self.frames += 1
            # Kept for wait_frame (tests, demo); a real screen has no use for it.
            keep = self.headless and self.keep_frames
            self.last_frame = self.surface.copy() if keep else self.surface
            self.last_snapshot = snap
            self._frame_lock.notify_all()
        if self.shots_dir is not None:
            self._save_shots(snap, mono, wall)
        if self.calls_log is not None:
            self._log_calls(snap)

    def _log_calls(self, snap: HallSnapshot) -> None:
        """Append each call a frame shows for the first time: ``t`` wall time,
        ``drawn`` the monotonic time the frame was done (system-wide on Linux,
        so another process can subtract its own button press from it),
        ``fresh`` false for a call learnt from the retained state."""
        assert self.calls_log is not None
        drawn = time.monotonic()
        lines = []
        for call in reversed(snap.calls):  # oldest first
            key = call.event_id or f"{call.counter}:{call.ticket}:{call.recall}"
            if key in self._logged:
                continue
            self._logged.append(key)
            record = {"t": time.time(), "drawn": drawn, "id": call.event_id,
                      "ticket": call.ticket, "counter": call.counter, "window": call.window,
                      "recall": call.recall, "fresh": call.fresh,
                      "received": call.received}  # fmt: skip
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        if lines:
            with self.calls_log.open("a", encoding="utf-8") as f:
                f.writelines(lines)

    def _save_shots(self, snap: HallSnapshot, mono: float, wall: dt.datetime) -> None:
        """One PNG per new call, even when several arrived between two frames:
        each is drawn as the screen showed (or would have shown) it."""
        assert self.shots_dir is not None
        new = [
            i
            for i, c in enumerate(snap.calls)
            if c.fresh and (c.event_id or f"{c.ticket}@{c.received}") not in self._shot_keys
        ]
        for i in reversed(new):  # oldest first
            call = snap.calls[i]
            self._shot_keys.append(call.event_id or f"{call.ticket}@{call.received}")
            if self.max_shots is not None and len(self.shots) >= self.max_shots:
                continue
            frame = self.surface
            if i:
                frame = self.screen.render(
                    dataclasses.replace(snap, calls=snap.calls[i:]), wall, mono
                )
            self.shots_dir.mkdir(parents=True, exist_ok=True)
            path = self.shots_dir / f"call-{len(self.shots) + 1:04d}-{call.ticket}.png"
            pygame.image.save(frame, str(path))
            self.shots.append(path)

    def wait_frame(
        self, check: Callable[[HallSnapshot], bool], timeout: float
    ) -> tuple[HallSnapshot, pygame.Surface] | None:
        """Wait for a drawn frame whose snapshot passes ``check``."""
        with self._frame_lock:
            ok = self._frame_lock.wait_for(
                lambda: self.last_frame is not None and check(self.last_snapshot), timeout
            )
            if not ok or self.last_frame is None:
                return None
            return self.last_snapshot, self.last_frame.copy()

    def run(self, on_iteration: Callable[[], object] | None = None) -> None:
        """The drawing loop, until :meth:`stop` (or Esc / window close on a desktop).

        ``on_iteration`` runs on every pass (at least once a second): the
        systemd watchdog is fed from here, so a stuck loop gets restarted."""
        with self._ack_lock:
            self._drawing = True
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL_S))
        try:
            self._loop(on_iteration)
        finally:
            sys.setswitchinterval(switch)
            with self._ack_lock:
                self._drawing = False

    def _loop(self, on_iteration: Callable[[], object] | None) -> None:
        drawn_version = -1
        deadline = 0.0
        drawn_at = float("-inf")
        while not self._stop.is_set():
            self.hold_for_frame(drawn_at)
            self._wake.clear()
            if not self.headless:
                self._pump_events()
            if self.bus is not None:
                self.state.set_bus(self.bus.connected)
            # A burst a list at a time: each call is shown, in order.
            snap = self.state.next_frame()
            mono = time.monotonic()
            wall = dt.datetime.now(self.tz)
            if snap.version != drawn_version or mono >= deadline:
                self.draw(snap, mono, wall)
                drawn_version, drawn_at = snap.version, mono
                deadline = mono + self.screen.next_change(snap, mono, wall)
            with self._ack_lock:
                acks = [ack for n, ack in self._to_ack if n <= snap.shown]
                self._to_ack = [(n, ack) for n, ack in self._to_ack if n > snap.shown]
            for ack in acks:  # on screen now: the broker may forget them
                ack()
            if snap.pending:
                self._wake.set()  # the rest of the burst, without waiting
            if on_iteration is not None:
                on_iteration()
            self._wake.wait(max(0.0, min(deadline - time.monotonic(), IDLE_WAKE_S)))

    def hold_for_frame(self, drawn_at: float) -> None:
        """Let states that come within a frame of the last one (drawn at
        ``drawn_at``) share the next; a call waiting, or arriving, ends it."""
        rest = drawn_at + self.frame_s - time.monotonic()
        if rest > 0 and not self.state.calls_waiting():
            self._call_wake.clear()
            if not self.state.calls_waiting():
                self._call_wake.wait(rest)

    def _pump_events(self) -> None:
        for event in pygame.event.get():
            quit_key = event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
            if event.type == pygame.QUIT or quit_key:
                self._stop.set()

    def request_stop(self) -> None:
        """Make :meth:`run` return soon (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()
        self._call_wake.set()

    def stop(self) -> None:
        """Stop everything: the loop, the announcer, the bus (status offline)."""
        self.request_stop()
        if self.announcer is not None:
            self.announcer.stop()
        if self.bus is not None:
            self.bus.stop()
