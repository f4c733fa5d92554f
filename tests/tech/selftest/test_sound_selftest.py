"""`nidaa test sound`: SDL's disk driver as the sound card, voice packs on disk."""

from __future__ import annotations

import array
import wave
from pathlib import Path

import pytest

from appliance.cli.env import ExitCode
from appliance.hall.voice import CallVoice
from appliance.hall.words import clip_names
from tests.support.selftest import assert_shape, branch, nidaa, nidaa_json


def tiny_pack(folder: Path, skip: str = "") -> Path:
    """A voice pack of 20 ms clips, each a different constant level, so the
    sound card's output can be searched for the clips in order."""
    folder.mkdir()
    for i, name in enumerate(clip_names("ar", "abjad")):
        if name == skip:
            continue
        with wave.open(str(folder / f"{name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(array.array("h", [1000 + 37 * i] * 320).tobytes())
    return folder


def test_chime_and_announcement_reach_the_sound_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = tmp_path / "sdl-audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(card))
    pack = tiny_pack(tmp_path / "ar")
    config = branch(tmp_path, audio=f'audio = "pygame"\nvoice_pack_ar = "{pack}"')
    code, out, _ = nidaa("test", "sound", "--config", str(config))
    assert code == ExitCode.OK, out
    assert "opened pygame:disk at 16000 Hz" in out
    assert "«العميل رقم أ واحد، الشباك رقم واحد»" in out
    assert out.strip().splitlines()[-1] == "PASS sound test of d1"
    # The samples of the chime, then of "customer", reached the device.
    voice = CallVoice.load(["ar"], "abjad", {"ar": str(pack)})
    played = card.read_bytes()
    chime = voice.packs[0].clips["chime"].pcm
    customer = voice.packs[0].clips["customer"].pcm
    assert chime[:400] in played and customer[:400] in played
    assert played.index(chime[:400]) < played.index(customer[:400])


def test_recorded_backend_plays_chime_then_the_sample_call(tmp_path: Path) -> None:
    config = branch(tmp_path)  # audio = "record" into tmp/rec
    code, obj = nidaa_json("test", "sound", "--config", str(config))
    assert code == ExitCode.OK
    assert_shape(obj, "sound")
    assert [s["step"] for s in obj["steps"]] == [
        "voice pack",
        "audio device",
        "chime",
        "announcement",
    ]
    assert obj["details"]["announcement"] == ["العميل رقم أ واحد، الشباك رقم واحد"]
    files = sorted((tmp_path / "rec").glob("call-*.wav"))
    assert [f.name for f in files] == ["call-0001.wav", "call-0002.wav"]
    voice = CallVoice.load(["ar"])
    with wave.open(str(files[1])) as w:
        assert w.readframes(w.getnframes()) == voice.render("A1", 1)[1]


def test_no_audio_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    config = branch(tmp_path, audio='audio = "pygame"')
    code, obj = nidaa_json("test", "sound", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "sound")
    assert obj["verdict"].startswith("FAIL sound test of d1: audio device: no audio device")
    assert any("aplay -l" in c for c in obj["checks"])


def test_missing_clip_is_named(tmp_path: Path) -> None:
    pack = tiny_pack(tmp_path / "ar", skip="window")
    config = branch(
        tmp_path, audio=f'audio = "record"\nrecord_dir = "REC"\nvoice_pack_ar = "{pack}"'
    )
    code, out, _ = nidaa("test", "sound", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert f"missing clip window.wav in {pack}" in out
    assert not (tmp_path / "rec").exists() or not list((tmp_path / "rec").iterdir())


def test_audio_none_still_tests_the_card_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(tmp_path / "card.raw"))
    pack = tiny_pack(tmp_path / "ar")
    config = branch(tmp_path, audio=f'audio = "none"\nvoice_pack_ar = "{pack}"')
    code, obj = nidaa_json("test", "sound", "--config", str(config))
    assert code == ExitCode.OK
    assert obj["details"]["speaker"] == "pygame:disk"
    assert any("audio = 'none'" in w for w in obj["warnings"])
