"""A real Mosquitto running `nidaa provision`'s output enforces every role.

Denied publishes are dropped silently by the broker, so each denial is proved
by a technician subscriber that sees everything: the denied message is sent
first, then an allowed one on the same connection; when the allowed one
arrives, the denied one would have arrived before it.
"""

from __future__ import annotations

import queue
import ssl
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from appliance.sim.harness.broker import Mosquitto, free_port
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import EXAMPLE_CONFIG

BRANCH = "giza-dokki"
T = Topics(BRANCH)
TIMEOUT = 10.0


@dataclass
class Branch:
    broker: Mosquitto
    port: int
    tls_port: int
    creds: Path

    def cred(self, unit: str) -> dict[str, str]:
        return tomllib.loads((self.creds / f"{unit}.toml").read_text())


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Branch]:
    out = tmp_path_factory.mktemp("provision")
    port, tls_port = free_port(), free_port()
    opts = ProvisionOptions(out=out, tls=True, port=port, tls_port=tls_port, bind="127.0.0.1")
    provision(load_config(EXAMPLE_CONFIG), opts)
    conf = (out / "nidaa.conf").read_text()
    with Mosquitto(out / "broker", extra_conf=conf, anonymous=False) as broker:
        yield Branch(broker, port, tls_port, out / "credentials")


class Client:
    """A paho MQTT v5 client that records what it receives."""

    def __init__(
        self,
        port: int,
        username: str,
        password: str,
        *,
        client_id: str | None = None,
        ca_pem: str | None = None,
    ) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.done = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.granted: queue.Queue[list[mqtt.ReasonCode]] = queue.Queue()
        self.c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or username, protocol=mqtt.MQTTv5
        )
        self.c.username_pw_set(username, password)
        if ca_pem is not None:
            ctx = ssl.create_default_context(cadata=ca_pem)
            self.c.tls_set_context(ctx)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.c.on_subscribe = lambda _c, _u, _mid, codes, _p: self.granted.put(list(codes))
        self.c.reconnect_delay_set(30, 60)  # a refused client must not retry during the test
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.done.wait(TIMEOUT), "no answer to CONNECT"

    def _on_connect(
        self, _c: object, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object
    ) -> None:
        self.reason = rc
        self.done.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        self.done.set()

    @property
    def connected(self) -> bool:
        return self.reason is not None and not self.reason.is_failure and self.c.is_connected()

    def subscribe(self, topic: str) -> list[mqtt.ReasonCode]:
        self.c.subscribe(topic, qos=1)
        return self.granted.get(timeout=TIMEOUT)

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> None:
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(TIMEOUT)

    def topics_until(self, topic: str) -> list[str]:
        """Topics received up to and including ``topic``."""
        seen = []
        while True:
            msg = self.messages.get(timeout=TIMEOUT)
            seen.append(msg.topic)
            if msg.topic == topic:
                return seen

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


Connect = Callable[..., Client]


@pytest.fixture
def connect(branch: Branch) -> Iterator[Connect]:
    made: list[Client] = []

    def make(unit: str, client_id: str | None = None) -> Client:
        cred = branch.cred(unit)
        client = Client(branch.port, cred["username"], cred["password"], client_id=client_id)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def tech(connect: Connect) -> Client:
    t = connect("tech", client_id="tech-watch")
    assert t.connected
    assert not t.subscribe(T.all_topics)[0].is_failure
    return t


def assert_dropped(tech: Client, sender: Client, denied: str, allowed: str) -> None:
    sender.publish(denied)
    sender.publish(allowed)
    seen = tech.topics_until(allowed)
    assert denied not in seen


def test_kiosk_issues_tickets_but_cannot_call_next(connect: Connect, tech: Client) -> None:
    kiosk = connect("k1")
    assert kiosk.connected
    call = T.counter_cmd("k1", "w1", "call-next")
    assert_dropped(tech, kiosk, call, T.ticket_cmd("k1", "issue"))
    assert_dropped(tech, kiosk, T.counter_state("w1"), T.ticket_cmd("k1", "void"))


def test_a_unit_publishes_commands_only_under_its_own_unit_id(
    connect: Connect, tech: Client
) -> None:
    """The master takes the requester from the command topic: a kiosk's
    password cannot send in another unit's name, nor in the layout of the
    release before (a unit not yet upgraded is refused too)."""
    kiosk, own = connect("k1"), T.ticket_cmd("k1", "issue")
    for other in (
        T.ticket_cmd("counter-w1", "issue"),
        T.counter_cmd("counter-w1", "w1", "call-next"),
        T.request_cmd("sms1", "ack"),
        T.queue_cmd("tech", "snapshot"),
        T.legacy_ticket_cmd("issue"),
    ):
        assert_dropped(tech, kiosk, other, own)


def test_the_technician_writes_only_in_its_own_lane(connect: Connect, tech: Client) -> None:
    tool = connect("tech", client_id="tech-tool-1")
    own = T.queue_cmd("tech", "snapshot")
    for other in (T.ticket_cmd("k1", "issue"), T.counter_state("w1"), T.event("call")):
        assert_dropped(tech, tool, other, own)


def test_display_cannot_issue_a_ticket_but_reads_state(connect: Connect, tech: Client) -> None:
    display, master = connect("d1"), connect("master")
    assert_dropped(tech, display, T.ticket_cmd("d1", "issue"), T.status("display", "d1"))
    assert not display.subscribe(T.all_states)[0].is_failure
    master.publish(T.counter_state("w2"), b'{"state": "idle"}')
    assert display.topics_until(T.counter_state("w2")) == [T.counter_state("w2")]


def test_counter_acts_only_for_itself(connect: Connect, tech: Client) -> None:
    w2 = connect("counter-w2")  # the counter unit at window w2
    own = T.counter_cmd("counter-w2", "w2", "call-next")
    assert_dropped(tech, w2, T.counter_cmd("counter-w2", "w1", "call-next"), own)
    assert_dropped(tech, w2, T.ticket_cmd("counter-w2", "issue"), own)


def test_replies_reach_only_their_client(connect: Connect) -> None:
    kiosk, w1, master = connect("k1"), connect("counter-w1"), connect("master")
    mine = T.reply("k1", "k1")
    assert not kiosk.subscribe(mine)[0].is_failure
    w1.subscribe(mine)  # granted or refused: it must never see k1's answers
    assert not w1.subscribe(T.counter_state("w1"))[0].is_failure
    master.publish(mine, b'{"ok": true}')
    master.publish(T.counter_state("w1"), b'{"state": "idle"}')
    assert kiosk.topics_until(mine) == [mine]
    assert mine not in w1.topics_until(T.counter_state("w1"))


def test_sms_gateway_reads_stage_events_not_calls(connect: Connect) -> None:
    sms, master = connect("sms1"), connect("master")
    sms.subscribe(T.event("call"))
    assert not sms.subscribe(T.event("stage"))[0].is_failure
    master.publish(T.event("call"))
    master.publish(T.event("stage"))
    assert sms.topics_until(T.event("stage")) == [T.event("stage")]


def test_unknown_user_and_wrong_password_cannot_connect(branch: Branch) -> None:
    for user, password in (("intruder", "secret"), ("k1", "not-the-password")):
        client = Client(branch.port, user, password)
        try:
            assert client.reason is None or client.reason.is_failure
            assert not client.connected
        finally:
            client.close()


def test_tls_listener_refuses_plain_text_and_serves_tls(branch: Branch, tech: Client) -> None:
    cred = branch.cred("k1")
    plain = Client(branch.tls_port, cred["username"], cred["password"])
    try:
        assert not plain.connected
    finally:
        plain.close()
    secure = Client(branch.tls_port, cred["username"], cred["password"], ca_pem=cred["ca_pem"])
    try:
        assert secure.connected
        secure.publish(T.ticket_cmd("k1", "issue"))
        assert tech.topics_until(T.ticket_cmd("k1", "issue"))[-1] == T.ticket_cmd("k1", "issue")
    finally:
        secure.close()


# -- identity: a credential works only with its unit's own client id --------------


def test_a_stolen_credential_cannot_take_another_units_client_id(
    connect: Connect, tech: Client
) -> None:
    master = connect("master")
    assert master.connected
    for thief, victim in (("k1", "master"), ("k1", "sms1"), ("d1", "counter-w1"), ("sms1", "k1")):
        intruder = connect(thief, client_id=victim)
        assert intruder.reason is not None and intruder.reason.is_failure
        assert str(intruder.reason) == "Not authorized"
        assert not intruder.connected
    assert master.connected, "the master must not be knocked off the bus"
    master.publish(T.status("master", "master"))
    assert tech.topics_until(T.status("master", "master"))[-1] == T.status("master", "master")


def test_a_unit_credential_connects_only_with_its_unit_id(connect: Connect) -> None:
    assert connect("counter-w1").connected
    assert not connect("counter-w1", client_id="counter-w1-tool").connected
    assert not connect("master", client_id="tech-laptop-1").connected


def test_the_technician_connects_with_ids_of_its_own_at_once(connect: Connect) -> None:
    first, second = connect("tech", client_id="tech-a-1"), connect("tech", client_id="tech-b-2")
    assert first.connected and second.connected  # neither knocks the other off


def test_each_unit_publishes_its_status_under_its_unit_id(connect: Connect, tech: Client) -> None:
    # One naming: the daemon of [[counter_units]] unit "counter-w1" reports there.
    for role, unit in (("counter", "counter-w1"), ("kiosk", "k1"), ("display", "d1"),
                       ("sms-gateway", "sms1"), ("master", "master")):  # fmt: skip
        client = connect(unit)
        client.publish(T.status(role, unit))
        assert tech.topics_until(T.status(role, unit))[-1] == T.status(role, unit)


def test_a_denied_command_is_named_not_authorized(branch: Branch) -> None:
    from appliance.bus.client import BusClient
    from appliance.bus.credential import load_credential
    from appliance.config.branch import load_config
    from appliance.errors import AuthError

    cfg = load_config(EXAMPLE_CONFIG)
    cred = load_credential(branch.creds / "k1.toml")
    bus = BusClient(cfg, role="kiosk", unit="k1", credential=cred,
                    broker_url=f"mqtt://127.0.0.1:{branch.port}")  # fmt: skip
    bus.start()
    try:
        assert bus.wait_connected(TIMEOUT)
        with pytest.raises(AuthError, match=r"[Nn]ot authorized"):
            bus.request(T.counter_cmd("k1", "w1", "call-next"), {"id": "k1-x"}, timeout=TIMEOUT)
    finally:
        bus.stop()
    stranger = BusClient(cfg, role="kiosk", unit="master", credential=cred, presence=False,
                         broker_url=f"mqtt://127.0.0.1:{branch.port}", client_id="master")  # fmt: skip
    stranger.start()
    try:
        assert not stranger.wait_connected(2.0)
        error = stranger.connect_error()
        assert isinstance(error, AuthError) and "not authorized" in str(error)
    finally:
        stranger.stop()


def _wait_for_record(caplog: pytest.LogCaptureFixture, text: str) -> str:
    import time

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for rec in caplog.records:
            if text in rec.getMessage():
                return f"{rec.levelname} {rec.getMessage()}"
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r}: {[r.getMessage() for r in caplog.records]}")


def test_a_daemon_says_at_once_why_it_has_no_broker(
    branch: Branch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Unreachable and not authorized are told apart, as errors, at the first attempt."""
    import logging

    from appliance.bus.client import BusClient
    from appliance.bus.credential import Credential
    from appliance.config.branch import load_config

    caplog.set_level(logging.INFO, logger="appliance.bus.client")
    cfg = load_config(EXAMPLE_CONFIG)
    dead = BusClient(cfg, role="master", unit="master", broker_url=f"mqtt://127.0.0.1:{free_port()}",
                     credential=Credential("master", "x"))  # fmt: skip
    dead.start()
    try:
        line = _wait_for_record(caplog, "unreachable")
        assert line.startswith("ERROR") and "no connection" in line
    finally:
        dead.stop()
    wrong = BusClient(cfg, role="master", unit="master", broker_url=f"mqtt://127.0.0.1:{branch.port}",
                      credential=Credential("master", "not-the-password", client_id="master"))  # fmt: skip
    wrong.start()
    try:
        line = _wait_for_record(caplog, "refused user 'master'")
        assert line.startswith("ERROR") and "not authorized" in line
    finally:
        wrong.stop()
