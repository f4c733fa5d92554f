"""Voice packs, announcement audio and `nidaa announce`."""

from __future__ import annotations

import io
import shutil
import sys
import wave
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.errors import ConfigError
from appliance.hall import voice as voice_mod
from appliance.hall.voice import CallVoice, VoicePack, default_voice_pack
from appliance.hall.words import LETTER_STYLES, clip_names
from tests.support import EXAMPLE_CONFIG, REPO


def _pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("letters", LETTER_STYLES)
def test_shipped_packs_hold_every_clip(language: str, letters: str) -> None:
    pack = VoicePack(None, language, letters)  # type: ignore[arg-type]
    assert set(pack.clips) == set(clip_names(language, letters))  # type: ignore[arg-type]
    assert pack.rate == 16000


def test_shipped_sounds_stay_small() -> None:
    total = sum(p.stat().st_size for p in (REPO / "sounds" / "voice").rglob("*.wav"))
    assert total < 4_000_000


def test_chime_is_reproduced_by_the_script() -> None:
    sys.path.insert(0, str(REPO / "sounds"))
    try:
        import make_clips
    finally:
        sys.path.remove(str(REPO / "sounds"))
    assert make_clips.chime() == _pcm(default_voice_pack("ar") / "chime.wav")


def test_announcement_is_chime_then_clips_in_order() -> None:
    pack = VoicePack(None, "ar")
    _, pcm = pack.announcement("A123", 4)
    order = ["chime", "customer", "letter_a", "100", "and", "3", "and", "20", "window", "4"]
    pos = 0
    for name in order:
        found = pcm.find(pack.clips[name].pcm, pos)
        assert found >= pos, f"{name} missing or out of order"
        pos = found + len(pack.clips[name].pcm)
    assert pcm.startswith(pack.clips["chime"].pcm)
    assert pcm.endswith(pack.clips["4"].pcm)


def _copy_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(default_voice_pack("ar"), folder)
    return folder


def test_a_missing_clip_is_named_at_load(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    (folder / "letter_c.wav").unlink()
    (folder / "300.wav").unlink()
    with pytest.raises(ConfigError) as err:
        VoicePack(folder, "ar")
    text = str(err.value)
    assert "missing clip letter_c.wav" in text and "missing clip 300.wav" in text


def test_a_stereo_or_foreign_rate_clip_is_refused(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    with wave.open(str(folder / "5.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(400))
    with wave.open(str(folder / "6.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(bytes(400))
    (folder / "7.wav").write_bytes(b"not a wav")
    with pytest.raises(ConfigError) as err:
        VoicePack(folder, "ar")
    text = str(err.value)
    assert "5.wav must be 16-bit mono" in text
    assert "6.wav is 44100 Hz" in text
    assert "7.wav is not a usable WAV" in text


def test_a_human_pack_replaces_the_synthetic_one(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    recorded = b"\x10\x00" * 800
    with wave.open(str(folder / "customer.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(recorded)
    _, pcm = VoicePack(folder, "ar").announcement("B002", 1)
    assert recorded in pcm


def test_arabic_then_english_after_one_chime() -> None:
    voice = CallVoice.load(["ar", "en"])
    texts, pcm = voice.render("A5", 2)
    assert texts == [
        "العميل رقم أ خمسة، الشباك رقم اثنان",
        "Customer number A five, window number two.",
    ]
    ar, en = voice.packs
    assert pcm.count(ar.clips["chime"].pcm) == 1
    assert pcm.find(ar.clips["customer"].pcm) < pcm.find(en.clips["customer"].pcm)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_announce_writes_the_wav_and_prints_the_words(tmp_path: Path) -> None:
    out = tmp_path / "call.wav"
    code, stdout, _ = _run(
        "announce", "A123", "w4", "--config", str(EXAMPLE_CONFIG), "--out", str(out), "--text"
    )
    assert code == ExitCode.OK
    assert stdout.strip() == "العميل رقم أ مئة وثلاثة وعشرون، الشباك رقم أربعة"
    _, expected = VoicePack(None, "ar").announcement("A123", 4)
    assert _pcm(out) == expected
    assert not list(tmp_path.glob(".*part"))


def test_announce_by_window_number_in_english() -> None:
    code, stdout, _ = _run(
        "announce", "C010", "5", "--config", str(EXAMPLE_CONFIG), "--text", "--language", "en"
    )
    assert code == ExitCode.OK
    assert stdout.strip() == "Customer number C ten, window number five."


def test_announce_rejects_bad_input() -> None:
    code, _, err = _run("announce", "123", "w4", "--config", str(EXAMPLE_CONFIG), "--text")
    assert code == ExitCode.USAGE and "not a ticket number" in err
    code, _, err = _run("announce", "A1", "w99", "--config", str(EXAMPLE_CONFIG), "--text")
    assert code == ExitCode.USAGE and "w99" in err and "known: w1 (1)" in err
    code, _, err = _run("announce", "A1", "w1", "--config", str(EXAMPLE_CONFIG))
    assert code == ExitCode.USAGE and "--out" in err
    bad = "/nonexistent-dir/call.wav"
    code, _, err = _run("announce", "A1", "w1", "--config", str(EXAMPLE_CONFIG), "--out", bad)
    assert code == ExitCode.ERROR and "cannot write" in err


def test_announce_names_a_missing_clip(tmp_path: Path, example_config_text: str) -> None:
    folder = _copy_pack(tmp_path)
    (folder / "window.wav").unlink()
    cfg = tmp_path / "branch.toml"
    text = example_config_text.replace('id = "d1"', f'id = "d1"\nvoice_pack_ar = "{folder}"')
    cfg.write_text(text, encoding="utf-8")
    code, _, err = _run("announce", "A1", "w1", "--config", str(cfg), "--text")
    assert code == ExitCode.CONFIG
    assert "missing clip window.wav" in err
    # The daemon stops at start-up too, before it touches the bus or the screen.
    code, _, err = _run(
        "display", "--config", str(cfg), "--headless", "--broker", "mqtt://127.0.0.1:9"
    )
    assert code == ExitCode.CONFIG
    assert "missing clip window.wav" in err


def test_sound_dir_is_found_from_the_package() -> None:
    assert (voice_mod.SOUNDS_DIR / "make_clips.py").is_file()


def test_installed_packs_are_found_outside_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "share" / "nidaa" / "sounds"
    shutil.copytree(default_voice_pack("ar"), installed / "voice" / "ar")
    monkeypatch.setattr(voice_mod, "SOUNDS_DIR", tmp_path / "no-checkout")
    monkeypatch.setattr(voice_mod, "INSTALLED_SOUNDS_DIR", installed)
    assert default_voice_pack("ar") == installed / "voice" / "ar"
    assert VoicePack(None, "ar").folder == installed / "voice" / "ar"
