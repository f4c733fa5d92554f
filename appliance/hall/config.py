"""Configuration of a hall display unit: ``[[displays]]`` in the branch file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..config.core import ID, Branchwide
from ..config.schema import duplicates, setting
from .words import Language, LetterStyle


@dataclass(frozen=True)
class DisplayUnit:
    """A hall display: an HDMI screen and speakers on a Pi."""

    id: str = setting("Unit id of this display.", pattern=ID, example="d1")
    width: int = setting(
        "Screen width in pixels; 0 uses the screen's own resolution.",
        default=0,
        minimum=0,
        maximum=7680,
    )
    height: int = setting(
        "Screen height in pixels; 0 uses the screen's own resolution.",
        default=0,
        minimum=0,
        maximum=4320,
    )
    fullscreen: bool = setting("Open the screen full screen (no window).", default=True)
    languages: list[Language] = setting(
        "Languages the call is spoken in, in order: ['ar'] or ['ar', 'en'].",
        default_factory=lambda: ["ar"],
    )
    letters: LetterStyle = setting(
        "How ticket prefix letters are said and shown: 'abjad' (A→أ B→ب C→ج …) "
        "or 'latin' (the Latin letter, said إيه، بي، سي …).",
        default="abjad",
    )
    voice_pack_ar: str = setting(
        "Folder of the Arabic clips; empty uses sounds/voice/ar shipped with Nidaa.", default=""
    )
    voice_pack_en: str = setting(
        "Folder of the English clips; empty uses sounds/voice/en shipped with Nidaa.", default=""
    )
    audio: Literal["pygame", "record", "none"] = setting(
        "Sound output: 'pygame' (the speakers), 'record' (write each announcement "
        "as a WAV file to record_dir, for tests and demos) or 'none' (screen only).",
        default="pygame",
    )
    record_dir: str = setting("Folder for audio = 'record'.", default="")
    volume: float = setting("Announcement volume, 0 to 1.", default=1.0, minimum=0, maximum=1)
    last_calls: int = setting(
        "How many previous calls the screen lists.", default=6, minimum=0, maximum=12
    )
    flash_s: float = setting(
        "How long a new call flashes.",
        default=6.0,
        minimum=0,
        maximum=60,
        aliases=("flash_seconds",),
    )
    panel_s: float = setting(
        "Seconds each page of the rotating information panel stays.",
        default=10.0,
        minimum=2,
        maximum=600,
        aliases=("panel_seconds",),
    )
    show_documents: bool = setting(
        "Show each service's required documents and fees in the rotating panel.", default=True
    )
    show_charter: bool = setting(
        "Show the charter's complaint channels (hotline, emergencies, the government "
        "complaints system, the centre's phone) in the rotating panel.",
        default=True,
    )
    complaints_portal: str = setting(
        "Address of the unified government complaints system shown on screen.",
        default="shakwa.eg",
    )
    messages_ar: list[str] = setting(
        "Extra pages for the rotating panel, in Arabic.", default_factory=list
    )
    services: list[str] = setting(
        "Ids of the services whose waiting counts are shown; empty shows all.",
        default_factory=list,
    )
    digits: Literal["latin", "arabic"] = setting(
        "Digits for window numbers, counts and times: 'latin' (123, as printed on "
        "tickets) or 'arabic' (١٢٣).",
        default="latin",
    )
    font: str = setting(
        "Arabic font file for the screen; empty uses Noto Sans Arabic (fonts-noto-core).",
        default="",
    )
    hijri_adjust_days: int = setting(
        "Days added to the computed (tabular) Hijri date to match the official "
        "calendar after the moon sighting.",
        default=0,
        minimum=-2,
        maximum=2,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        if not self.languages:
            yield "languages", "at least one language is required"
        if len(set(self.languages)) != len(self.languages):
            yield "languages", "a language is listed twice"
        if (self.width == 0) != (self.height == 0):
            yield "width", "set both width and height, or neither"
        if self.audio == "record" and not self.record_dir:
            yield "record_dir", "is required when audio = 'record'"


def check_displays(displays: list[DisplayUnit], cfg: Branchwide) -> Iterator[tuple[str, str]]:
    """Cross-section rules: ids unique, a display shows only services the branch has."""
    for dup in duplicates(d.id for d in displays):
        yield "displays", f"id {dup!r} is used by more than one display"
    known = {s.id for s in cfg.services}
    for i, unit in enumerate(displays):
        for j, sid in enumerate(unit.services):
            if sid not in known:
                yield f"displays[{i}].services[{j}]", f"unknown service {sid!r}"
        # The voice must say the letter the citizen's paper shows.
        label = cfg.branch.ticket_label
        if label != "latin" and unit.letters == "latin":
            yield (
                f"displays[{i}].letters",
                f"branch.ticket_label = {label!r} prints the Arabic letter (هـ); the hall must "
                "say it: use letters = 'abjad'",
            )
        if label == "latin" and unit.letters == "abjad":
            yield (
                f"displays[{i}].letters",
                "branch.ticket_label = 'latin' prints only E001; the hall must say the Latin "
                "letter: use letters = 'latin'",
            )
