"""The standby master on a real three-member etcd cluster: takeover after a
kill -9, a paused master fenced, etcd members lost."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.bus.client import BusClient
from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from appliance.errors import BusError
from appliance.master.candidate import CandidateMaster
from appliance.master.etcd import Etcd
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.etcd import EtcdCluster
from appliance.sim.harness.procs import wait_until
from tests.support import Watcher, write_config
from tests.support.etcd import HaBranch, ha_branch, ha_section
from tests.support.kiosk import PIN_BUILDING, Rig, kiosk_unit
from tests.support.selftest import nidaa, nidaa_json


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    """One cluster for the module; each test's branch has keys of its own."""
    with EtcdCluster(tmp_path_factory.mktemp("etcd")) as c:
        yield c


def labels(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT label FROM tickets ORDER BY id")]


def issue_until_answered(b: HaBranch, cid: str, within_s: float = 20.0) -> dict[str, object]:
    """A kiosk's retries of one command id until some master answers it."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return b.issue(cid, timeout=1.0)
        except BusError:
            if time.monotonic() > deadline:
                raise


def test_kill_9_of_the_active_master(
    broker: Mosquitto, cluster: EtcdCluster, tmp_path: Path
) -> None:
    with ha_branch(tmp_path, broker.url, cluster) as b:
        first = b.active()
        assert first is not None
        acked = {f"k{i}": b.issue(f"k{i}")["ticket"]["number"] for i in range(5)}
        b.masters[first].kill()
        # Retries of new commands (and of an acknowledged one) until the standby serves.
        for i in range(5, 10):
            acked[f"k{i}"] = issue_until_answered(b, f"k{i}")["ticket"]["number"]
        second = b.wait_active()
        assert second is not None and second != first, b.logs()
        again = issue_until_answered(b, "k2")  # a kiosk retrying an id the dead master answered
        assert again["ticket"]["number"] == acked["k2"]
        numbers = list(acked.values())
        assert len(set(numbers)) == len(numbers) == 10  # no number issued twice
        assert numbers == [f"A{i:03d}" for i in range(1, 11)]
        assert wait_until(lambda: b.status(second).get("log_seq", 0) >= 10, 10)
        assert b.status(second)["ha"] == "active"
        # The standby died: `nidaa status` names the active master and etcd's health.
        common = ("--config", str(b.config_path), "--broker", broker.url)
        _, out, _ = nidaa("status", *common)
        assert f"standby: active master {second};" in out and "etcd 3/3 members up" in out
        _, report = nidaa_json("status", *common)
        assert report["standby"]["active"] == second and report["standby"]["log_seq"] >= 10
    # Every acknowledged ticket is in the new master's database.
    assert labels(b.dbs[second]) == numbers


def test_a_paused_master_is_fenced(broker: Mosquitto, cluster: EtcdCluster, tmp_path: Path) -> None:
    with ha_branch(tmp_path, broker.url, cluster, lease_s=1.0) as b:
        first = b.active()
        assert first is not None
        b.issue("p0")
        b.masters[first].signal(signal.SIGSTOP)  # longer than its lease
        second = b.wait_active(other_than=first)
        assert second is not None, b.logs()
        during = [issue_until_answered(b, f"p{i}")["ticket"]["number"] for i in (1, 2)]
        b.masters[first].signal(signal.SIGCONT)
        # Commands sent while it slept wait in its session: it tries them, is
        # refused by etcd (or finds its lease gone first) and steps down.
        assert wait_until(lambda: b.status(first).get("state") == "standby", 10), b.logs()
        after = [issue_until_answered(b, f"q{i}")["ticket"]["number"] for i in range(3)]
        numbers = ["A001", *during, *after]
        assert numbers == [f"A{i:03d}" for i in range(1, 7)]
        # The old master follows the log: the same tickets, nothing of its own.
        assert wait_until(lambda: labels(b.dbs[first]) == numbers, 10), b.logs()
    assert labels(b.dbs[second]) == numbers


def test_a_kiosk_issues_with_one_etcd_member_down_and_shows_no_quorum_with_two(
    broker: Mosquitto, tmp_path: Path
) -> None:
    with EtcdCluster(tmp_path / "etcd") as c, ha_branch(tmp_path, broker.url, c) as b:
        k = Rig(b, kiosk_unit(request_timeout_s=2.0, request_attempts=3))  # type: ignore[arg-type]
        try:
            k.press(PIN_BUILDING)
            assert k.wait_printed(1, 10)
            c.kill_member(0)
            k.clock.advance(3)  # past the kiosk's cooldown
            k.press(PIN_BUILDING)
            assert k.wait_printed(2, 15), b.logs()
            c.kill_member(1)
            k.clock.advance(3)
            k.press(PIN_BUILDING)
            # Two of three down: refused with a code the kiosk shows, nothing printed.
            k.wait_status("degraded", fault="no_quorum")
            assert len(k.kiosk.counts.history) == 2
            c.start_member(0)
            c.start_member(1)
            c.wait_healthy()
            k.clock.advance(3)
            k.press(PIN_BUILDING)
            assert k.wait_printed(3, 20), b.logs()
            printed = [h.result["ticket"]["number"] for h in k.kiosk.counts.history]
        finally:
            k.close()
    active = b.wait_active() or "master"
    # The refused press was asked again once etcd answered, and voided if it
    # had been saved after all: no number is both printed and issued twice.
    assert len(set(printed)) == 3
    with sqlite3.connect(b.dbs[active]) as conn:
        states = dict(conn.execute("SELECT label, state FROM tickets"))
    assert all(states[label] == "waiting" for label in printed)


def test_the_master_pi_lost_with_its_broker(cluster: EtcdCluster, tmp_path: Path) -> None:
    """Mosquitto on both candidates' Pis: the first Pi (its broker and its
    master) dies; every unit moves to the second broker and the standby
    serves; once the first broker is back the units return to it."""
    with (
        Mosquitto(tmp_path / "broker-a") as a,
        Mosquitto(tmp_path / "broker-b") as second_broker,
        ha_branch(tmp_path, a.url, cluster, fallback_brokers=[second_broker.url]) as b,
    ):
        first = b.active()
        assert first is not None
        assert b.issue("b0")["ticket"]["number"] == "A001"
        a.stop(kill=True)
        b.masters[first].kill()  # the whole Pi
        assert issue_until_answered(b, "b1", 30)["ticket"]["number"] == "A002", b.logs()
        a.start()
        assert wait_until(lambda: b.client.port == a.port, 20)  # back to the first broker
        second_broker.stop(kill=True)
        assert issue_until_answered(b, "b2", 30)["ticket"]["number"] == "A003", b.logs()


class HeldEtcd(Etcd):
    """The master's etcd client whose member status (the health probe) waits
    until the test lets it go: a probe held as long as etcd takes to answer
    when two members hang."""

    def __init__(self, endpoints: list[str]) -> None:
        super().__init__(endpoints, timeout_s=3.0)
        self.held = threading.Event()
        self.release = threading.Event()

    def member_status(self) -> list[dict[str, Any]]:
        self.held.set()
        self.release.wait(60)
        return super().member_status()


def test_commands_are_answered_while_the_etcd_health_probe_is_held(
    broker: Mosquitto, cluster: EtcdCluster, tmp_path: Path
) -> None:
    config_path = write_config(tmp_path, broker.url)
    with config_path.open("a", encoding="utf-8") as f:
        f.write(ha_section(cluster.endpoints))
    config = load_config(config_path)
    etcd = HeldEtcd(cluster.endpoints)
    master = CandidateMaster(config, db_path=str(tmp_path / "m.db"), unit="master", etcd=etcd)
    topics = Topics(config.branch.id)
    watch = Watcher(config, topics.status("master", "master"))
    thread = threading.Thread(target=master.run, daemon=True)
    client = BusClient(config, role="tool", unit="t-held", client_id="t-held", presence=False)
    try:
        thread.start()
        assert etcd.held.wait(20)
        client.start()
        assert client.wait_connected(10)
        # The probe is held: the master still takes over, reports and issues.
        status = watch.wait_for(lambda m: json.loads(m.payload or b"{}").get("state") == "online")
        assert "etcd_up" not in json.loads(status.payload)  # no probe has finished yet
        body = {"id": "held-1", "service": "A", "priority": False}
        topic = topics.ticket_cmd(client.sender, "issue")
        assert client.request(topic, body, timeout=5, attempts=3)["ticket"]["number"] == "A001"
        assert not etcd.release.is_set()
        etcd.release.set()
        probed = watch.wait_for(lambda m: json.loads(m.payload or b"{}").get("etcd_up") == 3)
        assert json.loads(probed.payload)["etcd_checked_s"] >= 0
    finally:
        etcd.release.set()
        client.stop()
        watch.close()
        master.stop()
        thread.join(20)
