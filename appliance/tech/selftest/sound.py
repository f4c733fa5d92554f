"""`nidaa test sound`: the hall display's speakers and voice pack.

Loads the display's voice pack exactly as the display daemon does (every
clip checked, each missing one named), opens the sound card, and plays the
chime and then a sample call, "العميل رقم أ واحد، الشباك رقم واحد", so the
technician hears both.  The test passes when SDL played them to the end.
"""

from __future__ import annotations

import os

from ...config.branch import Config
from ...drivers.sound import open_speaker
from ...errors import ConfigError, HardwareError
from ...hall.units import display_unit
from ...hall.voice import CallVoice
from .hints import access_problem, stop_daemon, warn_if_running
from .result import Progress, SelfTest, quiet

SAMPLE_TICKET = "A1"
SAMPLE_WINDOW = 1


def _card_checks() -> list[str]:
    checks = ["`aplay -l` lists a card; HDMI audio needs the screen on before boot"]
    snd = "/dev/snd/controlC0"
    if os.path.exists(snd):
        checks.append(access_problem(snd))
    else:
        checks.append("no /dev/snd/controlC0: no sound card (dtparam=audio=on in config.txt?)")
    checks += [
        "the speakers' power and volume knob, and the output (`wpctl status` or raspi-config)",
        stop_daemon("display"),
    ]
    return checks


def run(cfg: Config, unit_id: str | None, *, progress: Progress = quiet) -> SelfTest:
    unit = display_unit(cfg, unit_id)
    result = SelfTest("sound", unit.id, progress)
    backend = "pygame" if unit.audio == "none" else unit.audio
    result.details.update(audio=unit.audio, languages=list(unit.languages), letters=unit.letters)
    progress(f"sound of display {unit.id}: {backend}, voice {'+'.join(unit.languages)}")
    warn_if_running(result, "display")
    if unit.audio == "none":
        result.warn(
            "this display is set to audio = 'none': it announces nothing even if the test passes"
        )
    folders = {"ar": unit.voice_pack_ar, "en": unit.voice_pack_en}
    try:
        voice = CallVoice.load(unit.languages, unit.letters, folders)
    except ConfigError as exc:
        missing = [message for _, message in exc.problems]
        result.details["clip_problems"] = missing
        return result.fail(
            "voice pack",
            "; ".join(missing),
            "put the missing clips back (sounds/make_clips.py remakes the shipped ones), "
            "or fix voice_pack_ar / voice_pack_en",
        )
    folders_used = ", ".join(str(p.folder) for p in voice.packs)
    result.step(
        "voice pack",
        True,
        f"{sum(len(p.clips) for p in voice.packs)} clips at {voice.rate} Hz in {folders_used}",
    )
    try:
        speaker = open_speaker(backend, voice.rate, record_dir=unit.record_dir, volume=unit.volume)
    except HardwareError as exc:
        driver = os.environ.get("SDL_AUDIODRIVER", "")
        detail = str(exc) + (f" (SDL_AUDIODRIVER={driver})" if driver else "")
        return result.fail("audio device", detail, *_card_checks())
    result.details["speaker"] = speaker.name
    result.step("audio device", True, f"opened {speaker.name} at {voice.rate} Hz")
    try:
        chime = voice.packs[0].clips["chime"].pcm
        speaker.play(chime)
        result.step("chime", True, f"played {len(chime) / 2 / voice.rate:.1f} s: did you hear it?")
        texts, pcm = voice.render(SAMPLE_TICKET, SAMPLE_WINDOW)
        speaker.play(pcm)
        result.details["announcement"] = texts
        result.step(
            "announcement", True, f"played {len(pcm) / 2 / voice.rate:.1f} s: «{' / '.join(texts)}»"
        )
    except HardwareError as exc:
        return result.fail("play", str(exc), *_card_checks())
    finally:
        speaker.close()
    return result
