"""Voice packs: a folder of WAV clips, and announcements composed from them.

A voice pack is a folder holding one 16-bit mono WAV per clip name of
:func:`appliance.hall.words.clip_names` (``chime.wav``, ``customer.wav``,
``3.wav``, ``letter_a.wav`` …), all at one sample rate.  The packs made by
``sounds/make_clips.py`` ship in ``sounds/voice/<language>``; a centre can
point ``voice_pack`` at a folder of human recordings with the same names.

The pack is checked completely when it is loaded, so a missing or unusable
clip stops the daemon at start-up with every problem named, never in the
middle of a call.
"""

from __future__ import annotations

import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from . import words
from .words import Announcement, Language, LetterStyle

#: Where the packs made by sounds/make_clips.py live in a Nidaa checkout.
SOUNDS_DIR = Path(__file__).resolve().parents[2] / "sounds"
#: Where setup.py installs them otherwise (``pip install`` into a venv).
INSTALLED_SOUNDS_DIR = Path(sys.prefix) / "share" / "nidaa" / "sounds"

# Silence, in milliseconds, between the parts of an announcement: a breath
# after the chime, a short gap between words, a longer one at the comma, and
# none after و which belongs to the next word.
GAP_AFTER_CHIME_MS = 300
GAP_MS = 60
PAUSE_MS = 350
GAP_AFTER_AND_MS = 0


def default_voice_pack(language: Language) -> Path:
    """The shipped pack of ``language``: the checkout's, else the installed one."""
    for root in (SOUNDS_DIR, INSTALLED_SOUNDS_DIR):
        if (root / "voice" / language).is_dir():
            return root / "voice" / language
    return SOUNDS_DIR / "voice" / language


@dataclass(frozen=True)
class Clip:
    name: str
    pcm: bytes  #: 16-bit signed little-endian mono samples

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2


class VoicePack:
    """The clips of one language, loaded and checked."""

    def __init__(
        self,
        folder: str | Path | None = None,
        language: Language = "ar",
        letters: LetterStyle = "abjad",
    ) -> None:
        self.folder = Path(folder) if folder else default_voice_pack(language)
        self.language: Language = language
        self.letters: LetterStyle = letters
        self.clips: dict[str, Clip] = {}
        self.rate = 0
        self._load(words.clip_names(language, letters))

    def _load(self, names: Sequence[str]) -> None:
        problems: list[tuple[str, str]] = []
        if not self.folder.is_dir():
            raise ConfigError([("voice_pack", f"voice pack folder {self.folder} does not exist")])
        for name in names:
            path = self.folder / f"{name}.wav"
            try:
                with wave.open(str(path), "rb") as w:
                    channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
                    pcm = w.readframes(w.getnframes())
            except FileNotFoundError:
                problems.append(("voice_pack", f"missing clip {name}.wav in {self.folder}"))
                continue
            except (wave.Error, EOFError, OSError) as exc:
                problems.append(("voice_pack", f"clip {path} is not a usable WAV file: {exc}"))
                continue
            if channels != 1 or width != 2:
                problems.append(
                    (
                        "voice_pack",
                        f"clip {path} must be 16-bit mono (it is {8 * width}-bit, "
                        f"{channels} channels); convert it with "
                        f"`sox IN -r 16000 -c 1 -b 16 {name}.wav`",
                    )
                )
                continue
            if not self.rate:
                self.rate = rate
            elif rate != self.rate:
                problems.append(
                    ("voice_pack", f"clip {path} is {rate} Hz; the pack's clips are {self.rate} Hz")
                )
                continue
            if not pcm:
                problems.append(("voice_pack", f"clip {path} is empty"))
                continue
            self.clips[name] = Clip(name, pcm)
        if problems:
            raise ConfigError(problems)

    def silence(self, ms: int) -> bytes:
        return bytes(2 * (self.rate * ms // 1000))

    def compose(self, tokens: Sequence[str], *, chime: bool = True) -> bytes:
        """PCM of the chime (optionally) and the clips of ``tokens``, with gaps."""
        parts: list[bytes] = []
        if chime:
            parts += [self.clips["chime"].pcm, self.silence(GAP_AFTER_CHIME_MS)]
        for i, token in enumerate(tokens):
            if token == words.PAUSE:
                parts.append(self.silence(PAUSE_MS))
                continue
            parts.append(self.clips[token].pcm)
            last = i == len(tokens) - 1
            if not last and tokens[i + 1] != words.PAUSE:
                parts.append(self.silence(GAP_AFTER_AND_MS if token == words.AND else GAP_MS))
        return b"".join(parts)

    def announcement(self, ticket: str, window: int) -> tuple[Announcement, bytes]:
        """The call of ``ticket`` to ``window`` in this pack's language, and its PCM."""
        call = Announcement(ticket, window, self.language, self.letters)
        return call, self.compose(call.tokens())

    def duration_s(self, pcm: bytes) -> float:
        return len(pcm) / 2 / self.rate


def write_wav(path: str | Path, pcm: bytes, rate: int) -> None:
    """Write 16-bit mono PCM as a WAV file, via a temporary name so no
    half-written file is ever left under the real name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    # The file is opened first: wave.open(path) leaves a half-built writer
    # behind when the folder does not exist.
    with tmp.open("wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    tmp.replace(path)


class CallVoice:
    """The announcer's voice: one pack per language, spoken in order after one chime."""

    def __init__(self, packs: Sequence[VoicePack]) -> None:
        if not packs:
            raise ConfigError([("languages", "at least one language is required")])
        rates = {p.rate for p in packs}
        if len(rates) != 1:
            raise ConfigError([("voice_pack", f"the voice packs differ in sample rate: {rates}")])
        self.packs = list(packs)
        self.rate = packs[0].rate

    @classmethod
    def load(
        cls,
        languages: Sequence[Language],
        letters: LetterStyle = "abjad",
        folders: dict[str, str] | None = None,
    ) -> CallVoice:
        folders = folders or {}
        return cls([VoicePack(folders.get(lang) or None, lang, letters) for lang in languages])

    def render(self, ticket: str, window: int) -> tuple[list[str], bytes]:
        """The sentences and the PCM of one call; ``ValueError`` for a bad ticket."""
        texts: list[str] = []
        parts: list[bytes] = []
        for i, pack in enumerate(self.packs):
            call = Announcement(ticket, window, pack.language, pack.letters)
            if i:
                parts.append(pack.silence(PAUSE_MS * 2))
            parts.append(pack.compose(call.tokens(), chime=i == 0))
            texts.append(call.text())
        return texts, b"".join(parts)
