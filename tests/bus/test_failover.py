"""The bus outlives its first broker: two real Mosquitto brokers made from
`nidaa provision`'s files (same accounts, same rules), the master as a
process started with its unit's credential, a kiosk issuing and a counter
calling all along.  The first broker is killed, every unit moves to the
second, tickets keep coming; the first comes back, every unit returns."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from appliance.bus.client import BusClient, Message, new_command_id
from appliance.bus.credential import load_credential
from appliance.bus.topics import Topics
from appliance.config.branch import Config, load_config
from appliance.errors import BusError, QueueError
from appliance.sim.harness.broker import Mosquitto, free_port
from appliance.sim.harness.procs import Daemon, wait_until
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import write_config

WAIT = 30.0


@dataclass
class Unit:
    """A unit's bus client sending commands the way its daemon does: the
    same id on every attempt, asked again after a failure until answered."""

    bus: BusClient
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)

    def ask(self, topic: str, body: dict[str, Any], stop: threading.Event) -> None:
        command = {"id": new_command_id(self.bus.unit), **body}
        while not stop.is_set():
            try:
                self.answers[command["id"]] = self.bus.request(
                    topic, command, timeout=1.0, attempts=2
                )
                return
            except BusError:
                continue  # no broker or no master yet: the same command again
            except QueueError as exc:
                self.refusals.append(str(exc))
                return


@dataclass
class Broker:
    """A provisioned broker: its listener is ``port``, beside the harness's own."""

    proc: Mosquitto
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def provisioned_brokers(tmp_path: Path) -> tuple[Path, Broker, Broker]:
    """The branch file names both brokers; provision once, and the second
    broker gets copies of the same files (same accounts, same rules)."""
    out, second = tmp_path / "provision", tmp_path / "provision-b"
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"mqtt://127.0.0.1:{port_a}", f"mqtt://127.0.0.1:{port_b}"
    path = write_config(
        tmp_path,
        url_a,
        replace={
            f'url = "{url_a}"': f'url = "{url_a}"\nfallback_urls = ["{url_b}"]\n'
            f'credentials_dir = "{out / "credentials"}"',
            '[master]\nunit = "master"': '[master]\nunit = "master"\ntickets_per_minute = 0',
        },
    )
    provision(load_config(path), ProvisionOptions(out=out, port=port_a, bind="127.0.0.1"))
    shutil.copytree(out, second)
    conf = (out / "nidaa.conf").read_text()
    conf_b = conf.replace(str(out.resolve()), str(second.resolve())).replace(
        f"listener {port_a} ", f"listener {port_b} "
    )
    a = Mosquitto(tmp_path / "broker-a", extra_conf=conf, anonymous=False)
    b = Mosquitto(tmp_path / "broker-b", extra_conf=conf_b, anonymous=False)
    return path, Broker(a, port_a), Broker(b, port_b)


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[tuple[Path, Broker, Broker]]:
    path, a, b = provisioned_brokers(tmp_path)
    with a.proc, b.proc:
        yield path, a, b


def statuses(config: Config, creds: Path, broker: Broker) -> dict[str, dict[str, Any]]:
    """Every retained status on one broker, as a technician connected there sees it."""
    seen: dict[str, dict[str, Any]] = {}
    done = threading.Event()
    tech = BusClient(
        config,
        role="tool",
        unit="tech",
        client_id=new_command_id("tech"),
        presence=False,
        credential=load_credential(creds / "tech.toml"),
        broker_url=broker.url,
    )
    topics = Topics(config.branch.id)

    def record(msg: Message) -> None:
        if msg.payload:
            seen[msg.topic] = json.loads(msg.payload)
        done.set()

    tech.subscribe(topics.all_status, record)
    tech.start()
    try:
        assert tech.wait_connected(WAIT)
        assert done.wait(WAIT)
        wait_until(lambda: False, 0.5)  # the rest of the retained burst
        return dict(seen)
    finally:
        tech.stop()


def test_units_move_to_the_second_broker_and_back(
    tmp_path: Path, brokers: tuple[Path, Broker, Broker]
) -> None:
    path, a, b = brokers
    config = load_config(path)
    creds = Path(config.broker.credentials_dir)
    topics = Topics(config.branch.id)
    db = tmp_path / "master.db"
    master = Daemon(["master", "--config", str(path), "--db", str(db)], tmp_path / "master.log")
    kiosk = Unit(BusClient(config, role="kiosk", unit="k1"))
    counter = Unit(BusClient(config, role="counter", unit="counter-w1"))
    stop = threading.Event()
    issue = topics.ticket_cmd("k1", "issue")
    call = topics.counter_cmd("counter-w1", "w1", "call-next")

    def kiosk_loop() -> None:
        while not stop.is_set():
            kiosk.ask(issue, {"service": "A", "priority": False, "unit": "k1"}, stop)
            stop.wait(0.1)

    def counter_loop() -> None:
        while not stop.is_set():
            counter.ask(call, {}, stop)
            stop.wait(0.2)

    workers = [threading.Thread(target=f, daemon=True) for f in (kiosk_loop, counter_loop)]
    with master:
        try:
            for unit in (kiosk, counter):
                unit.bus.start()
                assert unit.bus.wait_connected(WAIT)
            for w in workers:
                w.start()
            assert wait_until(lambda: len(kiosk.answers) >= 5, WAIT), master.log()
            a.proc.stop(kill=True)  # the first broker's Pi is gone
            before = len(kiosk.answers)
            assert wait_until(lambda: len(kiosk.answers) >= before + 10, WAIT), master.log()
            assert (kiosk.bus.port, counter.bus.port) == (b.port, b.port)
            assert "k1" in str(statuses(config, creds, b).get(topics.status("kiosk", "k1")))

            a.proc.start()  # back: every unit returns to the first broker
            assert wait_until(
                lambda: (kiosk.bus.port, counter.bus.port) == (a.port, a.port) and (
                    kiosk.bus.connected and counter.bus.connected), WAIT
            )  # fmt: skip
            before = len(kiosk.answers)
            assert wait_until(lambda: len(kiosk.answers) >= before + 5, WAIT), master.log()
        finally:
            stop.set()
            for w in workers:
                w.join(10)
            on_b = statuses(config, creds, b)
            for unit in (kiosk, counter):
                unit.bus.stop()

    assert kiosk.refusals == counter.refusals == []
    # Units that left the second broker said goodbye there (their Last Will).
    assert on_b[topics.status("kiosk", "k1")]["state"] == "offline"
    assert on_b[topics.status("master", "master")]["state"] == "offline"
    with sqlite3.connect(db) as conn:
        numbers = [n for (n,) in conn.execute("SELECT label FROM tickets ORDER BY id")]
        called = conn.execute("SELECT COUNT(*) FROM tickets WHERE first_called_at IS NOT NULL")
        unpublished = conn.execute("SELECT COUNT(*) FROM events WHERE published = 0")
        called_n, unpublished_n = called.fetchone()[0], unpublished.fetchone()[0]
    printed = [r["ticket"]["number"] for r in kiosk.answers.values()]
    # Every acknowledged ticket is there once; none was applied twice.
    assert sorted(printed) == sorted(numbers) and len(set(numbers)) == len(numbers)
    calls = [r for r in counter.answers.values() if r.get("ticket")]
    assert called_n == len({r["ticket"]["number"] for r in calls}) == len(calls)
    assert unpublished_n == 0  # the outbox's events all went out, through either broker
