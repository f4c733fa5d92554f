"""Sound output: one narrow interface, one module per backend.

A :class:`Speaker` plays 16-bit mono PCM and returns when it has been heard.
Backends: ``pygame_mixer`` (the speakers, through SDL) and ``recorder``
(simulated: keeps every clip played and may write each one as a WAV file).
Pick one with :func:`open_speaker`; nothing touches the sound card at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Speaker(Protocol):
    """Where announcements are heard."""

    #: What the backend is, for the unit's status ("pygame:pulseaudio", "recorder").
    name: str

    def open(self, rate: int) -> None:
        """Claim the device for ``rate`` Hz mono; ``HardwareError`` if there is none."""

    def play(self, pcm: bytes, on_start: Callable[[], None] | None = None) -> None:
        """Play ``pcm`` and return once it has finished (or :meth:`close` was called).

        ``on_start`` runs as soon as the first sample is handed to the device."""

    def close(self) -> None:
        """Stop playing and release the device; safe to call twice."""


def open_speaker(kind: str, rate: int, *, record_dir: str = "", volume: float = 1.0) -> Speaker:
    """A speaker of backend ``kind`` ('pygame' or 'record'), opened at ``rate`` Hz."""
    speaker: Speaker
    if kind == "pygame":
        from .pygame_mixer import PygameSpeaker

        speaker = PygameSpeaker(volume=volume)
    elif kind == "record":
        from .recorder import RecordingSpeaker

        speaker = RecordingSpeaker(record_dir or None)
    else:
        raise ValueError(f"unknown speaker backend {kind!r}")
    speaker.open(rate)
    return speaker
