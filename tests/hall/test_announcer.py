"""The announcer thread and the sound backends."""

from __future__ import annotations

import array
from pathlib import Path

import pytest

from appliance.drivers.sound import open_speaker
from appliance.drivers.sound.recorder import RecordingSpeaker
from appliance.errors import HardwareError
from appliance.hall import announcer as announcer_module
from appliance.hall.announcer import Announcer, CallRequest
from appliance.hall.voice import CallVoice


@pytest.fixture(scope="module")
def voice() -> CallVoice:
    return CallVoice.load(["ar"])


def test_calls_arriving_during_an_announcement_are_all_spoken_in_order(
    voice: CallVoice, tmp_path: Path
) -> None:
    speaker = RecordingSpeaker(tmp_path)
    speaker.open(voice.rate)
    speaker.hold.clear()  # the first announcement is "still playing"
    announcer = Announcer(voice, speaker)
    announcer.start()
    calls = [("A001", 1), ("B002", 4), ("A001", 1), ("C315", 6)]
    for i, (ticket, window) in enumerate(calls):
        announcer.submit(CallRequest(ticket, window, f"e{i}", recall=int(i == 2)))
    assert not announcer.wait_idle(0.05)  # nothing finishes while the first is held
    speaker.hold.set()
    assert announcer.wait_idle(10)
    announcer.stop()
    assert speaker.played == [voice.render(t, w)[1] for t, w in calls]
    assert [s.call.event_id for s in announcer.spoken] == ["e0", "e1", "e2", "e3"]
    assert announcer.spoken[3].texts == ["العميل رقم ج ثلاثمئة وخمسة عشر، الشباك رقم ستة"]
    assert [p.name for p in speaker.files] == [f"call-000{i}.wav" for i in range(1, 5)]
    assert all(s.latency_ms >= 0 for s in announcer.spoken)


def test_a_bad_call_is_reported_and_later_calls_still_spoken(voice: CallVoice) -> None:
    speaker = RecordingSpeaker()
    speaker.open(voice.rate)
    announcer = Announcer(voice, speaker)
    announcer.start()
    announcer.submit(CallRequest("??", 1))
    announcer.submit(CallRequest("D009", 2))
    assert announcer.wait_idle(10)
    announcer.stop()
    assert len(announcer.faults) == 1 and "not a ticket number" in announcer.faults[0]
    assert speaker.played == [voice.render("D009", 2)[1]]


def test_pygame_speaker_sends_the_samples_to_the_sound_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sdl-audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(out))
    # A recognisable ramp of 0.2 s, so the device output can be searched for it.
    ramp = array.array("h", [(i * 97) % 30000 - 15000 for i in range(3200)])
    speaker = open_speaker("pygame", 16000)
    assert speaker.name == "pygame:disk"
    started: list[bool] = []
    speaker.play(ramp.tobytes(), on_start=lambda: started.append(True))
    speaker.close()
    assert started == [True]
    assert ramp[:1600].tobytes() in out.read_bytes()


def test_a_missing_audio_device_is_a_hardware_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    with pytest.raises(HardwareError, match="no audio device"):
        open_speaker("pygame", 16000)


def test_the_announcer_keeps_only_its_latest_announcements(
    voice: CallVoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hall display runs for months: what the announcer remembers is bounded,
    and the count of announcements started goes on."""
    monkeypatch.setattr(announcer_module, "KEPT", 3)
    speaker = RecordingSpeaker()
    speaker.open(voice.rate)
    announcer = Announcer(voice, speaker)
    announcer.start()
    for i in range(8):
        announcer.submit(CallRequest(f"A{i + 1:03d}", 1, f"e{i}"))
    announcer.submit(CallRequest("??", 1))
    assert announcer.wait_idle(20)
    assert announcer.wait_started(8, 1)
    announcer.stop()
    assert announcer.started == 8
    assert [s.call.event_id for s in announcer.spoken] == ["e5", "e6", "e7"]
    assert len(announcer.latencies_ms) == 3 and len(announcer.faults) == 1
