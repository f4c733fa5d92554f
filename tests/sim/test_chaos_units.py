"""What the chaos run needed of the units: call events that wait (a while)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.master.daemon import CALL_EXPIRY_S
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import running_branch, write_config


def test_call_events_expire_for_a_display_that_stays_away(
    tmp_path: Path, broker: Mosquitto
) -> None:
    # A hall display restarting gets the calls it missed (persistent session);
    # one switched off overnight must not announce yesterday's citizens.
    with running_branch(tmp_path, broker.url) as b:
        got: list[mqtt.MQTTMessage] = []
        arrived = threading.Event()

        def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            got.append(msg)
            arrived.set()

        url = urlparse(broker.url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.on_message = on_message
        subscribed = threading.Event()
        client.on_subscribe = lambda *args: subscribed.set()
        client.connect(url.hostname or "127.0.0.1", url.port or 1883)
        client.subscribe(b.config_topics().event("call"), qos=1)
        client.loop_start()
        try:
            assert subscribed.wait(10)
            b.issue("A")
            b.counter("w1", "call-next")
            assert arrived.wait(10)
        finally:
            client.loop_stop()
            client.disconnect()
        expiry = got[0].properties.MessageExpiryInterval  # type: ignore[union-attr]
        assert 0 < expiry <= CALL_EXPIRY_S


def test_the_hall_display_acknowledges_a_call_only_once_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Killed between receiving a call and drawing it, the display must get the
    # call again from its persistent session: the ack waits for the frame.
    import dataclasses
    import json

    from appliance.bus.client import Message
    from appliance.config.branch import load_config
    from appliance.hall.daemon import HallDisplay
    from appliance.hall.units import display_unit

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    cfg = load_config(write_config(tmp_path, "mqtt://127.0.0.1:1"))
    unit = dataclasses.replace(display_unit(cfg), audio="none")
    log = tmp_path / "calls.jsonl"
    hall = HallDisplay(cfg, unit, headless=True, connect=False, calls_log=log)

    def call(n: int, ack: Callable[[], None]) -> None:
        payload = {"id": f"call-{n}-0", "ticket": f"A00{n}", "window": 1, "counter": "w1"}
        hall.handle_call(Message("event/call", json.dumps(payload).encode(), ack=ack))

    def drawn(event_id: str) -> bool:
        return log.exists() and f'"{event_id}"' in log.read_text()

    at_once = threading.Event()
    call(1, at_once.set)  # no drawing loop (bench, screenshot): acknowledged at once
    assert at_once.is_set()
    when_acked: list[bool] = []
    loop = threading.Thread(target=hall.run, daemon=True)
    loop.start()
    try:
        assert hall.wait_frame(lambda snap: True, 10) is not None
        call(2, lambda: when_acked.append(drawn("call-2-0")))
        assert wait_until(lambda: when_acked, 10)
        assert when_acked == [True]  # on screen (and in the log) before the ack
    finally:
        hall.request_stop()
        loop.join(10)
        hall.stop()
