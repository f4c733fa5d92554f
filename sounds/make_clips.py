#!/usr/bin/env python3
"""Make the chime and every voice clip of the hall announcer, reproducibly.

    python sounds/make_clips.py            # rewrite sounds/voice/{ar,en}/*.wav
    python sounds/make_clips.py --list     # print the clip table for README.md

The voice is espeak-ng (``apt-get install espeak-ng sox``); the chime is
synthesized here.  Every clip is a 16 kHz mono 16-bit WAV with its leading
and trailing silence trimmed, so the announcer can join clips with gaps of
its own.  The clips are committed: neither the appliance nor the test suite
needs espeak-ng.  A centre may replace any clip with a human recording of
the same name and format (see sounds/README.md).

The Arabic texts below carry diacritics (and a pausal ه for ة) because
espeak-ng reads undiacritized Arabic poorly (مئة would become "m?t").
"""

from __future__ import annotations

import argparse
import array
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from appliance.hall import words

HERE = Path(__file__).resolve().parent
RATE = 16000

AR_NUMBERS = {
    "0": "صِفْر",
    "1": "وَاحِد",
    "2": "اِثْنَان",
    "3": "ثَلَاثَه",
    "4": "أَرْبَعَه",
    "5": "خَمْسَه",
    "6": "سِتْتَه",
    "7": "سَبْعَه",
    "8": "ثَمَانِيَه",
    "9": "تِسْعَه",
    "10": "عَشَرَه",
    "11": "أَحَدَ عَشَر",
    "12": "اِثْنَا عَشَر",
    "13": "ثَلَاثَةَ عَشَر",
    "14": "أَرْبَعَةَ عَشَر",
    "15": "خَمْسَةَ عَشَر",
    "16": "سِتْتَةَ عَشَر",
    "17": "سَبْعَةَ عَشَر",
    "18": "ثَمَانِيَةَ عَشَر",
    "19": "تِسْعَةَ عَشَر",
    "20": "عِشْرُون",
    "30": "ثَلَاثُون",
    "40": "أَرْبَعُون",
    "50": "خَمْسُون",
    "60": "سِتْتُون",
    "70": "سَبْعُون",
    "80": "ثَمَانُون",
    "90": "تِسْعُون",
    "100": "مِئَه",
    "200": "مِئَتَان",
    "300": "ثَلَاثُمِئَه",
    "400": "أَرْبَعُمِئَه",
    "500": "خَمْسُمِئَه",
    "600": "سِتْتُمِئَه",
    "700": "سَبْعُمِئَه",
    "800": "ثَمَانِمِئَه",
    "900": "تِسْعُمِئَه",
    "1000": "أَلْف",
    "2000": "أَلْفَان",
    "thousands": "آلَاف",
    "and": "وَ",
    "customer": "العميل رقم",
    "window": "الشباك رقم",
}

AR_LETTER_NAMES = {
    "A": "أَلِف",
    "B": "بَاء",
    "C": "جِيم",
    "D": "دَال",
    "E": "هَاء",
    "F": "وَاو",
    "G": "زَاي",
    "H": "حَاء",
    "I": "طَاء",
    "J": "يَاء",
    "K": "كَاف",
    "L": "لَام",
    "M": "مِيم",
    "N": "نُون",
    "O": "سِين",
    "P": "عَيْن",
    "Q": "فَاء",
    "R": "صَاد",
    "S": "قَاف",
    "T": "رَاء",
    "U": "شِين",
    "V": "تَاء",
    "W": "ثَاء",
    "X": "خَاء",
    "Y": "ذَال",
    "Z": "ضَاد",
}


# Latin letter names whose plain spelling espeak-ng misreads (أو as "aw",
# زد as "zd"): spelled for the synthesizer with diacritics.
AR_LATIN_SPEECH = {
    "O": "أُو",
    "Q": "كْيُو",
    "R": "آرْ",
    "W": "دَبْلْيُو",
    "Y": "وَايْ",
    "Z": "زِدْ",
}


def arabic_texts() -> dict[str, str]:
    texts = dict(AR_NUMBERS)
    for letter, name in AR_LETTER_NAMES.items():
        texts[words.letter_token(letter, "abjad")] = name
        latin = AR_LATIN_SPEECH.get(letter, words.LATIN_AR[letter])
        texts[words.letter_token(letter, "latin")] = latin
    return texts


def english_texts() -> dict[str, str]:
    texts = {str(n): words.number_words(n, "en") for n in range(20)}
    texts.update({str(n): words.number_words(n, "en") for n in range(20, 100, 10)})
    texts.update(
        {
            "hundred": "hundred",
            "thousand": "thousand",
            "and": "and",
            "customer": "Customer number",
            "window": "window number",
        }
    )
    # espeak-ng says a lone capital as its letter name ("A" → /eI/, "Z" →
    # /zEd/ in en-gb); spelled names like "ay" would be misread.
    for letter in words.LATIN_EN:
        texts[f"en_{letter.lower()}"] = letter
    return texts


# language → (espeak-ng voice, words per minute, texts)
PACKS = {
    "ar": ("ar", 135, arabic_texts),
    "en": ("en-gb", 150, english_texts),
}


def chime(rate: int = RATE) -> bytes:
    """A two-note 'ding-dong' (E5 then C5) with bell-like harmonics and decay."""
    notes = [(659.25, 0.0), (523.25, 0.45)]
    length = 1.4
    out = array.array("h")
    for i in range(int(length * rate)):
        t = i / rate
        v = 0.0
        for freq, start in notes:
            if t >= start:
                dt = t - start
                env = math.exp(-3.2 * dt) * min(1.0, dt / 0.005)
                v += env * (
                    math.sin(2 * math.pi * freq * dt)
                    + 0.35 * math.sin(2 * math.pi * 2 * freq * dt)
                    + 0.12 * math.sin(2 * math.pi * 3 * freq * dt)
                )
        out.append(int(max(-1.0, min(1.0, v * 0.45)) * 32767))
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def write_wav(path: Path, pcm: bytes, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def speak(text: str, voice: str, wpm: int, out: Path, tmp: Path) -> None:
    raw = tmp / "raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
    # -D: no dither, so the same espeak-ng version always gives the same bytes.
    trim = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
    subprocess.run(
        [
            "sox",
            "-D",
            str(raw),
            "-r",
            str(RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(out),
            *trim,
            "norm",
            "-3",
        ],
        check=True,
    )


def make(out_dir: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"make_clips: {tool} is missing; apt-get install espeak-ng sox")
    for language, (voice, wpm, texts_of) in PACKS.items():
        texts = texts_of()
        pack = out_dir / language
        pack.mkdir(parents=True, exist_ok=True)
        needed = {
            name
            for style in words.LETTER_STYLES
            for name in words.clip_names(language, style)  # type: ignore[arg-type]
        }
        missing = needed - set(texts) - {"chime"}
        if missing:
            sys.exit(f"make_clips: no text for {sorted(missing)}")
        write_wav(pack / "chime.wav", chime())
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in sorted(texts.items()):
                speak(text, voice, wpm, pack / f"{name}.wav", Path(tmp))
        print(f"{pack}: {len(texts) + 1} clips")


def table() -> str:
    rows = ["| clip | Arabic pack says | English pack says |", "|---|---|---|"]
    ar, en = arabic_texts(), english_texts()
    for name in sorted(set(ar) | set(en) | {"chime"}, key=_order):
        rows.append(f"| `{name}.wav` | {ar.get(name, '—')} | {en.get(name, '—')} |")
    rows[2] = "| `chime.wav` | (synthesized chime) | (synthesized chime) |"
    return "\n".join(rows)


def _order(name: str) -> tuple[int, int, str]:
    if name == "chime":
        return (0, 0, name)
    if name.isdigit():
        return (2, int(name), name)
    return (1 if "_" not in name else 3, 0, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "voice", help="voice packs folder")
    parser.add_argument("--list", action="store_true", help="print the clip table and exit")
    args = parser.parse_args()
    if args.list:
        print(table())
    else:
        make(args.out)


if __name__ == "__main__":
    main()
