"""Simulated speaker: keeps every sound played, optionally as WAV files.

Used by the tests, by ``audio = "record"`` and by ``nidaa demo``, which saves
each announcement as ``call-0001.wav``, ``call-0002.wav`` … in a folder.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable
from pathlib import Path

KEEP = 32


class RecordingSpeaker:
    name = "recorder"

    def __init__(self, folder: str | Path | None = None, max_files: int | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self.max_files = max_files
        self.rate = 0
        #: The last KEEP sounds played, oldest first (bounded: a daemon runs for days).
        self.played: list[bytes] = []
        #: How many sounds were played in all.
        self.count = 0
        self.files: list[Path] = []
        self.opened = False
        #: Set by the test to hold :meth:`play` (as a long announcement would).
        self.hold = threading.Event()
        self.hold.set()
        self._changed = threading.Condition()

    def open(self, rate: int) -> None:
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.rate = rate
        self.opened = True

    def play(self, pcm: bytes, on_start: Callable[[], None] | None = None) -> None:
        self.hold.wait()
        if on_start is not None:
            on_start()
        with self._changed:
            self.played.append(pcm)
            del self.played[:-KEEP]
            self.count += 1
            room = self.max_files is None or len(self.files) < self.max_files
            if self.folder is not None and room:
                path = self.folder / f"call-{self.count:04d}.wav"
                tmp = path.with_name(f".{path.name}.part")
                with tmp.open("wb") as f, wave.open(f, "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(self.rate)
                    w.writeframes(pcm)
                tmp.replace(path)
                self.files.append(path)
            self._changed.notify_all()

    def wait_played(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` sounds have been played."""
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout)

    def close(self) -> None:
        self.opened = False
        self.hold.set()
