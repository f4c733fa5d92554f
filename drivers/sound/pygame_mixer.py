"""The speakers, through pygame-ce's mixer (SDL: ALSA/PulseAudio on a Pi).

``SDL_AUDIODRIVER=disk`` makes SDL write the samples to a file instead, at
the pace of a real card; the test suite uses it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from ...errors import HardwareError

# How often a playing sound is polled for its end: short enough that the
# next call follows promptly, long enough to cost nothing.
_POLL_S = 0.02


class PygameSpeaker:
    def __init__(self, volume: float = 1.0) -> None:
        self.volume = volume
        self.name = "pygame"
        self.rate = 0
        self._closed = threading.Event()
        self._mixer: Any = None

    def open(self, rate: int) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame
        except ImportError as exc:  # pragma: no cover - a packaging fault
            raise HardwareError("pygame-ce is not installed: pip install pygame-ce") from exc
        try:
            # allowedchanges=0: SDL converts to what the card wants, so the
            # clips' raw 16-bit mono samples stay valid whatever the device.
            pygame.mixer.init(frequency=rate, size=-16, channels=1, buffer=1024, allowedchanges=0)
        except pygame.error as exc:
            raise HardwareError(f"no audio device: {exc}") from exc
        self._mixer = pygame.mixer
        self.rate = rate
        self.name = f"pygame:{pygame.mixer.get_driver()}"

    def play(self, pcm: bytes, on_start: Callable[[], None] | None = None) -> None:
        if self._mixer is None:
            raise HardwareError("the speaker is not open")
        sound = self._mixer.Sound(buffer=pcm)
        sound.set_volume(self.volume)
        channel = sound.play()
        if channel is None:
            raise HardwareError("the mixer has no free channel")
        if on_start is not None:
            on_start()
        # Wait roughly the sound's length first, then poll for the real end.
        if self._closed.wait(max(0.0, sound.get_length() - 0.1)):
            return
        while channel.get_busy():
            if self._closed.wait(_POLL_S):
                return

    def close(self) -> None:
        self._closed.set()
        if self._mixer is not None:
            self._mixer.stop()
            self._mixer.quit()
            self._mixer = None
