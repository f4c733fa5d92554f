"""The central broker `nidaa provision --central-broker` configures, running:
a branch's bridge account publishes only under its own `branches/<b>/`,
connects only as its own bridge, and reads only its own replay requests."""

from __future__ import annotations

import queue
import ssl
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.bus.credential import load_credential
from appliance.bus.topics import CentralTopics
from appliance.central.config import parse_central_config
from appliance.cli.main import run as main
from appliance.config.branch import load_config
from appliance.errors import ConfigError
from appliance.sim.harness.broker import Mosquitto, free_port
from appliance.tech.bridge import CentralBrokerOptions, provision_bridge, provision_central_broker
from tests.support import EXAMPLE_CONFIG

CENTRAL_TOML = '[central]\ndatabase = "host=127.0.0.1"\n[[branches]]\nid = "b1"\n[[branches]]\nid = "b2"\n'
B1, B2 = CentralTopics("b1"), CentralTopics("b2")


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    out = tmp_path_factory.mktemp("central")
    tls_port = free_port()
    cfg = parse_central_config(CENTRAL_TOML)
    provision_central_broker(cfg, CentralBrokerOptions(out=out, host="localhost", tls_port=tls_port,
                                                       port=0))  # fmt: skip
    conf = (out / "nidaa-central.conf").read_text()
    with Mosquitto(out / "run", extra_conf=conf, anonymous=False):
        yield tls_port, out / "credentials"


class Peer:
    """An MQTT v5 client over TLS with a provisioned credential."""

    def __init__(self, port: int, cred_file: Path, client_id: str | None = None) -> None:
        cred = tomllib.loads(cred_file.read_text())
        self.got: queue.Queue[str] = queue.Queue()
        self.answers: queue.Queue[object] = queue.Queue()
        cid = client_id or cred["client_id"] or "central-test"
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
        self.c.username_pw_set(cred["username"], cred["password"])
        self.c.tls_set_context(ssl.create_default_context(cadata=cred["ca_pem"]))
        self.c.on_connect = lambda _c, _u, _f, rc, _p: self.answers.put(rc)
        self.c.on_subscribe = lambda _c, _u, _m, codes, _p: self.answers.put(list(codes))
        self.c.on_message = lambda _c, _u, m: self.got.put(m.topic)
        self.c.reconnect_delay_set(30, 60)
        self.c.connect("localhost", port)
        self.c.loop_start()
        self.rc = self.answers.get(timeout=10)

    def subscribe(self, topic: str) -> bool:
        self.c.subscribe(topic, qos=1)
        codes = self.answers.get(timeout=10)
        assert isinstance(codes, list)
        return not codes[0].is_failure

    def publish(self, topic: str) -> None:
        self.c.publish(topic, b"{}", qos=1).wait_for_publish(10)

    def seen_until(self, topic: str) -> list[str]:
        seen = []
        while not seen or seen[-1] != topic:
            seen.append(self.got.get(timeout=10))
        return seen

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_a_branch_publishes_only_under_its_own_name(central: tuple[int, Path]) -> None:
    port, creds = central
    consumer = Peer(port, creds / "central.toml")
    b1 = Peer(port, creds / "branch-b1.toml")
    try:
        assert not consumer.rc.is_failure and not b1.rc.is_failure  # type: ignore[attr-defined]
        for kind in ("change", "head", "branch"):
            assert consumer.subscribe(f"branches/+/sync/{kind}")
        assert consumer.subscribe(CentralTopics.shared("central", "branches/+/sync/change"))
        for denied in (B2.sync("change"), B2.sync("head"), "branches/b1/cmd/x", B1.sync("replay")):
            b1.publish(denied)
        b1.publish(B1.sync("change"))
        seen = consumer.seen_until(B1.sync("change"))
        assert set(seen) == {B1.sync("change")}
        # Replays: b1 reads its own, not b2's.
        assert b1.subscribe(B1.sync("replay"))
        assert not b1.subscribe(B2.sync("replay"))
        consumer.publish(B2.sync("replay"))
        consumer.publish(B1.sync("replay"))
        assert b1.seen_until(B1.sync("replay")) == [B1.sync("replay")]
    finally:
        consumer.close()
        b1.close()


def test_a_branch_credential_connects_only_as_its_own_bridge(central: tuple[int, Path]) -> None:
    port, creds = central
    thief = Peer(port, creds / "branch-b1.toml", client_id="bridge-b2")
    try:
        assert thief.rc.is_failure  # type: ignore[attr-defined]
    finally:
        thief.close()


def test_the_bridge_carries_the_feed_only_and_needs_the_branch_own_credential(
    central: tuple[int, Path], tmp_path: Path
) -> None:
    _, creds = central
    cfg = load_config(EXAMPLE_CONFIG)  # branch giza-dokki
    with pytest.raises(ConfigError, match="not of branch"):
        provision_bridge(cfg, tmp_path, "central:8883", load_credential(creds / "branch-b1.toml"))
    assert not (tmp_path / "bridge.conf").exists()


def test_provision_cli_writes_both_halves_and_keeps_them(tmp_path: Path) -> None:
    central_toml = tmp_path / "central.toml"
    central_toml.write_text(CENTRAL_TOML.replace('"b2"', '"giza-dokki"'))
    broker = tmp_path / "central-broker"
    argv = ["provision", "--central-broker", str(central_toml), "--out", str(broker),
            "--tls-host", "central.example.gov"]  # fmt: skip
    assert main(argv) == 0
    first = (broker / "credentials" / "branch-giza-dokki.toml").read_text()
    assert main(argv) == 0
    assert (broker / "credentials" / "branch-giza-dokki.toml").read_text() == first
    out = tmp_path / "branch"
    assert main(["provision", "--config", str(EXAMPLE_CONFIG), "--out", str(out), "--tls",
                 "--central", "central.example.gov:8883", "--central-credential",
                 str(broker / "credentials" / "branch-giza-dokki.toml")]) == 0  # fmt: skip
    conf = (out / "bridge.conf").read_text()
    topics = [line for line in conf.splitlines() if line.startswith("topic ")]
    assert topics == [
        "topic sync/change out 1 nidaa/giza-dokki/ branches/giza-dokki/",
        "topic sync/head out 1 nidaa/giza-dokki/ branches/giza-dokki/",
        "topic sync/branch out 1 nidaa/giza-dokki/ branches/giza-dokki/",
        "topic sync/replay in 1 nidaa/giza-dokki/ branches/giza-dokki/",
    ]
    assert "address central.example.gov:8883" in conf and "bridge_insecure false" in conf
    assert (out / "bridge.conf").stat().st_mode & 0o777 == 0o640
    assert (out / "central-ca.crt").read_text() == (broker / "ca.crt").read_text()
    assert main(["provision", "--config", str(EXAMPLE_CONFIG), "--out", str(out),
                 "--central", "central.example.gov:8883"]) == 2  # fmt: skip
