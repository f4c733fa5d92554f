"""The display daemon on a real broker: calls shown and spoken, offline sign.

SDL_VIDEODRIVER=dummy and SDL_AUDIODRIVER=disk are set by tests/conftest.py.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.bus.client import BusClient, Message, new_command_id
from appliance.bus.topics import Topics
from appliance.config.branch import Config, load_config
from appliance.drivers.sound.recorder import RecordingSpeaker
from appliance.hall.daemon import SWITCH_INTERVAL_S, HallDisplay
from appliance.hall.screen import ACCENT, OFFLINE, PANEL
from appliance.hall.units import display_unit
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import EXAMPLE_CONFIG, Watcher, write_config
from tests.support.pixels import count_color, crop, ticket_in_frame

WAIT = 15.0


@pytest.fixture
def cfg(tmp_path: Path, broker: Mosquitto) -> Config:
    return load_config(write_config(tmp_path, broker.url))


@pytest.fixture
def tool(cfg: Config) -> Iterator[BusClient]:
    uid = new_command_id("tool")
    client = BusClient(cfg, role="tool", unit=uid, client_id=uid, presence=False)
    client.start()
    assert client.wait_connected(10)
    yield client
    client.stop()


class Running:
    """A HallDisplay whose drawing loop runs on a thread (headless)."""

    def __init__(self, cfg: Config, speaker: RecordingSpeaker, **unit_changes: object) -> None:
        unit = dataclasses.replace(display_unit(cfg), **unit_changes)  # type: ignore[arg-type]
        self.hall = HallDisplay(cfg, unit, headless=True, speaker=speaker)
        # The unit's "online" status follows its subscriptions on the same
        # connection: once seen, no call published by the test can be missed.
        watcher = Watcher(cfg, Topics(cfg.branch.id).status("display", unit.id))
        try:
            self.hall.start()
            watcher.wait_for(lambda m: m.json().get("state") != "offline", WAIT)
        finally:
            watcher.close()
        self.thread = threading.Thread(target=self.hall.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.hall.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def speaker() -> RecordingSpeaker:
    return RecordingSpeaker()


@pytest.fixture
def hall(cfg: Config, speaker: RecordingSpeaker) -> Iterator[HallDisplay]:
    running = Running(cfg, speaker)
    yield running.hall
    running.stop()


def call(
    tool: BusClient, ticket: str, window: int, event_id: str, recall: int = 0, **extra: object
) -> None:
    payload = {"id": event_id, "ticket": ticket, "window": window, "recall": recall, **extra}
    tool.publish(tool.topics.event("call"), payload, qos=1).wait_for_publish(5)


def master_status(tool: BusClient, state: str) -> None:
    topic = tool.topics.status("master", "master")
    payload = {"role": "master", "unit": "master", "state": state, "faults": []}
    tool.publish(topic, payload, retain=True).wait_for_publish(5)


def test_a_call_on_the_bus_is_shown_and_spoken(
    hall: HallDisplay, tool: BusClient, speaker: RecordingSpeaker
) -> None:
    master_status(tool, "online")
    call(tool, "A007", 2, "ev-1", counter="w2", service="building")
    got = hall.wait_frame(lambda s: s.current is not None and s.current.ticket == "A007", WAIT)
    assert got is not None
    current = got[0].current
    assert current is not None and (current.window, current.counter) == (2, "w2")
    assert speaker.wait_played(1, WAIT)
    assert hall.announcer is not None
    assert speaker.played == [hall.announcer.voice.render("A007", 2)[1]]
    assert hall.announcer.spoken[0].texts == ["العميل رقم أ سبعة، الشباك رقم اثنان"]


def test_the_frame_drawn_by_the_loop_shows_the_call(
    cfg: Config, tool: BusClient, speaker: RecordingSpeaker
) -> None:
    running = Running(cfg, speaker, flash_s=0.0)
    try:
        master_status(tool, "online")
        call(tool, "B042", 4, "ev-2")
        got = running.hall.wait_frame(lambda s: s.current is not None, WAIT)
        assert got is not None
        _, frame = got
        assert ticket_in_frame(frame, running.hall.screen, "B042", ACCENT, PANEL) <= 2
    finally:
        running.stop()


def test_offline_sign_when_the_master_goes_offline(hall: HallDisplay, tool: BusClient) -> None:
    master_status(tool, "online")
    assert hall.wait_frame(lambda s: s.master_online is True, WAIT) is not None
    # What the broker publishes when the master's Last Will fires.
    master_status(tool, "offline")
    got = hall.wait_frame(lambda s: s.offline, WAIT)
    assert got is not None
    r = hall.screen.regions.offline
    assert (
        count_color(crop(got[1], (r.x, r.y, r.width, r.height)), OFFLINE) > r.width * r.height // 2
    )
    master_status(tool, "online")
    back = hall.wait_frame(lambda s: not s.offline, WAIT)
    assert back is not None
    assert count_color(crop(back[1], (r.x, r.y, r.width, r.height)), OFFLINE) == 0


def test_queued_calls_are_spoken_in_order_recalls_again_duplicates_once(
    hall: HallDisplay, tool: BusClient, speaker: RecordingSpeaker
) -> None:
    speaker.hold.clear()  # the first announcement is still playing
    call(tool, "A001", 1, "e1")
    call(tool, "B002", 3, "e2")
    call(tool, "A001", 1, "e3", recall=1)  # a recall: spoken again
    call(tool, "B002", 3, "e2")  # a redelivered event: shown and spoken once
    call(tool, "C003", 5, "e4")
    assert hall.wait_frame(lambda s: s.current is not None and s.current.ticket == "C003", WAIT)
    speaker.hold.set()
    assert speaker.wait_played(4, WAIT)
    assert hall.announcer is not None and hall.announcer.wait_idle(WAIT)
    render = hall.announcer.voice.render
    expected = [("A001", 1), ("B002", 3), ("A001", 1), ("C003", 5)]
    assert speaker.played == [render(t, w)[1] for t, w in expected]
    assert [s.call.event_id for s in hall.announcer.spoken] == ["e1", "e2", "e3", "e4"]


def test_waiting_counts_and_bad_payloads(hall: HallDisplay, tool: BusClient) -> None:
    topic = tool.topics.service_state("building")
    tool.publish(
        topic, {"service": "building", "waiting": 12, "estimate_minutes": 30.0}, retain=True
    )
    got = hall.wait_frame(
        lambda s: any(x.id == "building" and x.waiting == 12 for x in s.services), WAIT
    )
    assert got is not None
    # Malformed events are logged and ignored; the daemon keeps going.
    tool.publish(tool.topics.event("call"), b"not json")
    tool.publish(tool.topics.event("call"), {"id": "x", "ticket": "A9"})  # no window
    call(tool, "D010", 6, "ok")
    assert hall.wait_frame(lambda s: s.current is not None and s.current.ticket == "D010", WAIT)
    assert [c.ticket for c in hall.state.snapshot().calls] == ["D010"]


def test_missing_audio_device_degrades_to_screen_only(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    unit = dataclasses.replace(display_unit(cfg), audio="pygame", id="hall-2")
    watcher = Watcher(cfg, Topics(cfg.branch.id).status("display", "hall-2"))
    hall = HallDisplay(cfg, unit, headless=True)
    try:
        assert hall.announcer is None
        hall.start()
        msg = watcher.wait_for(lambda m: b"degraded" in m.payload, WAIT)
        status = msg.json()
        assert status["state"] == "degraded" and status["audio"] == "none"
        assert status["faults"][0]["code"] == "no_audio"
        assert "no audio device" in status["faults"][0]["message"]
    finally:
        hall.stop()
        watcher.close()


@pytest.mark.slow
def test_with_a_real_master_call_next_is_shown_and_its_last_will_shows_offline(
    tmp_path: Path, broker: Mosquitto
) -> None:
    from tests.support import Branch

    url_line = f'url = "{broker.url}"'
    # A short keepalive, so the broker fires the master's Last Will quickly.
    branch = Branch(tmp_path, broker.url, replace={url_line: f"{url_line}\nkeepalive = 5"})
    branch.start()
    speaker = RecordingSpeaker()
    running = Running(branch.config, speaker, flash_s=0.0)
    try:
        hall = running.hall
        assert hall.wait_frame(lambda s: s.master_online is True, WAIT)
        ticket = branch.issue("A")["ticket"]["number"]
        branch.counter("w2", "call-next")
        got = hall.wait_frame(lambda s: s.current is not None and s.current.ticket == ticket, WAIT)
        assert got is not None
        assert ticket_in_frame(got[1], hall.screen, ticket, ACCENT, PANEL) <= 2
        assert speaker.wait_played(1, WAIT)
        assert speaker.played[0] == hall.announcer.voice.render(ticket, 2)[1]  # type: ignore[union-attr]
        branch.master.kill()  # power cut: the broker publishes its Last Will
        got = hall.wait_frame(lambda s: s.offline, 30)
        assert got is not None
        r = hall.screen.regions.offline
        assert count_color(crop(got[1], (r.x, r.y, r.width, r.height)), OFFLINE) > 0
    finally:
        running.stop()
        branch.master.stop()
        branch.close()


class BrokenSpeaker(RecordingSpeaker):
    """A sound card that fails while playing (unplugged speakers, driver fault)."""

    def play(self, pcm: bytes, on_start: object = None) -> None:
        from appliance.errors import HardwareError

        raise HardwareError("ALSA: device disconnected")


def test_a_failing_sound_device_is_reported_in_the_status(cfg: Config, tool: BusClient) -> None:
    watcher = Watcher(cfg, Topics(cfg.branch.id).status("display", "d1"))
    running = Running(cfg, BrokenSpeaker())
    try:
        call(tool, "A001", 1, "b1")
        call(tool, "A002", 2, "b2")
        msg = watcher.wait_for(lambda m: b"audio_failed" in m.payload, WAIT)
        assert msg.json()["state"] == "degraded"
        assert "device disconnected" in msg.json()["faults"][0]["message"]
        # The screen goes on showing calls.
        assert running.hall.wait_frame(
            lambda s: s.current is not None and s.current.ticket == "A002", WAIT
        )
    finally:
        running.stop()
        watcher.close()


def test_a_burst_of_calls_is_shown_in_order_none_skipped(tmp_path: Path) -> None:
    """Twenty calls arrive before the first frame (a list of seven with the
    current call): each one is drawn, in order, and acknowledged only once
    drawn."""
    cfg = load_config(EXAMPLE_CONFIG)
    unit = dataclasses.replace(display_unit(cfg), audio="none")
    log = tmp_path / "calls.jsonl"
    hall = HallDisplay(cfg, unit, headless=True, connect=False, calls_log=log)
    burst = [f"C{300 + i}" for i in range(20)]
    acked: list[tuple[str, bool]] = []

    def ack_of(ticket: str) -> Callable[[], None]:
        def ack() -> None:
            drawn = log.exists() and f'"{ticket}"' in log.read_text()
            acked.append((ticket, drawn))

        return ack

    hall._drawing = True  # acknowledgements wait for frames, as in run()
    for i, ticket in enumerate(burst):
        payload = json.dumps({"id": f"burst-{i}", "ticket": ticket, "window": 1 + i % 4})
        hall.handle_call(Message("event/call", payload.encode(), ack=ack_of(ticket)))
    assert acked == []
    loop = threading.Thread(target=hall.run, daemon=True)
    loop.start()
    try:
        assert hall.wait_frame(lambda s: s.shown == len(burst), WAIT) is not None
        assert wait_until(lambda: len(acked) == len(burst), WAIT)
    finally:
        hall.stop()
        loop.join(10)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["ticket"] for line in lines] == burst
    drawn = [line["drawn"] for line in lines]
    assert drawn == sorted(drawn) and len(set(drawn)) >= 3  # at most seven a frame
    # Each line says when the call arrived, so the bench can tell the bus's
    # share of a delay from the screen's.
    assert all(0 < line["received"] <= line["drawn"] for line in lines)
    assert sorted(acked) == sorted((t, True) for t in burst)


def test_states_closer_than_a_frame_share_one_and_a_call_never_waits(
    tmp_path: Path,
) -> None:
    """States arriving faster than the screen's frames are drawn a frame's
    worth at a time (never a frame per message); a call ends the wait at
    once, and every call is shown, in order."""
    cfg = load_config(EXAMPLE_CONFIG)
    unit = dataclasses.replace(display_unit(cfg), audio="none")
    log = tmp_path / "calls.jsonl"
    hall = HallDisplay(cfg, unit, headless=True, connect=False, calls_log=log)
    hall.frame_s = 0.25  # long, so the count below cannot pass by luck
    loop = threading.Thread(target=hall.run, daemon=True)
    loop.start()
    tickets = [f"B{400 + i}" for i in range(3)]
    try:
        assert hall.wait_frame(lambda s: True, WAIT) is not None
        before, start = hall.frames, time.monotonic()
        for i in range(20):  # the master going and coming: a state each time
            hall.state.set_master(i % 2 == 1)
            time.sleep(0.02)
        assert hall.wait_frame(lambda s: s.master_online, WAIT) is not None
        elapsed = time.monotonic() - start
        drawn = hall.frames - before
        # At most one frame per frame_s (and the one the last change needed).
        assert drawn <= elapsed / hall.frame_s + 2, (drawn, elapsed)
        for i, ticket in enumerate(tickets):
            payload = json.dumps({"id": f"spaced-{i}", "ticket": ticket, "window": 1 + i})
            hall.handle_call(Message("event/call", payload.encode()))
            assert hall.wait_frame(lambda s, n=i + 1: s.shown >= n, WAIT) is not None
    finally:
        hall.stop()
        loop.join(10)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [ln["ticket"] for ln in lines] == tickets


def test_a_call_ends_the_wait_for_the_next_frame() -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    unit = dataclasses.replace(display_unit(cfg), audio="none")
    hall = HallDisplay(cfg, unit, headless=True, connect=False)
    hall.frame_s = 10 * WAIT  # a state would wait far longer than WAIT
    holding = threading.Thread(target=hall.hold_for_frame, args=(time.monotonic(),))
    holding.start()
    holding.join(0.2)
    assert holding.is_alive()  # held for the frame
    payload = json.dumps({"id": "now", "ticket": "C500", "window": 2})
    hall.handle_call(Message("event/call", payload.encode()))
    holding.join(WAIT)
    assert not holding.is_alive()
    hall.hold_for_frame(time.monotonic())  # the call not drawn yet: no wait at all
    hall.stop()


def test_the_drawing_loop_shortens_the_thread_switch_interval_while_it_runs() -> None:
    # The bus thread must not wait Python's default 5 ms for the GIL at each
    # read while a frame is drawn (see SWITCH_INTERVAL_S); the interpreter's
    # own value comes back once the loop ends.
    cfg = load_config(EXAMPLE_CONFIG)
    unit = dataclasses.replace(display_unit(cfg), audio="none")
    hall = HallDisplay(cfg, unit, headless=True, connect=False)
    before = sys.getswitchinterval()
    seen: list[float] = []
    loop = threading.Thread(target=hall.run, args=(lambda: seen.append(sys.getswitchinterval()),))
    loop.start()
    assert wait_until(lambda: bool(seen), WAIT)
    hall.stop()
    loop.join(WAIT)
    assert not loop.is_alive()
    assert before > SWITCH_INTERVAL_S  # the default 5 ms: the test can fail
    assert seen[0] == pytest.approx(SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == pytest.approx(before)
