"""What the chaos run needed of the units: call events that wait (a while)."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from appliance.master.daemon import CALL_EXPIRY_S
from appliance.testing.broker import Mosquitto
from tests.helpers import running_branch


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
