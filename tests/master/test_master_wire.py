"""The wire protocol with clients Nidaa did not write, and durability."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from pathlib import Path

from appliance.bus.client import BusClient, new_command_id
from appliance.errors import BusError
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import Watcher, running_branch


def test_mosquitto_rr_issues_a_ticket_and_mosquitto_sub_sees_the_state(
    broker: Mosquitto, tmp_path: Path
) -> None:
    with running_branch(tmp_path, broker.url) as b:
        t = b.config_topics()
        rr = subprocess.run(
            [
                "mosquitto_rr", "-p", str(broker.port), "-h", "127.0.0.1", "-q", "1",
                "-t", t.ticket_cmd("rr-client", "issue"), "-e", t.reply("rr-client", "rr-client"),
                "-i", "rr-client",
                "-m", json.dumps({"id": "rr-1", "service": "C", "priority": False}),
                "-W", "10",
            ],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        answer = json.loads(rr.stdout)
        assert answer["ok"] is True and answer["result"]["ticket"]["number"] == "C001"

        def retained_state() -> dict[str, object]:
            sub = subprocess.run(
                ["mosquitto_sub", "-p", str(broker.port), "-h", "127.0.0.1",
                 "-t", t.service_state("shops"), "-C", "1", "-W", "10"],
                capture_output=True, text=True, timeout=20, check=True,
            )  # fmt: skip
            return dict(json.loads(sub.stdout))

        # The answer goes out before the retained state is updated: wait for it.
        assert wait_until(lambda: retained_state()["waiting"] == 1, 10)
        state = retained_state()
        assert state["service"] == "shops" and state["prefix"] == "C"


def test_kill_9_while_issuing_loses_no_number_and_repeats_none(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A client issues tickets, retrying each press with the same id, while
    the master is killed with SIGKILL and restarted several times."""
    with running_branch(tmp_path, broker.url) as b:
        answers: dict[str, str] = {}
        done = threading.Event()

        def client() -> None:
            for i in range(60):
                cid = f"press-{i}"
                while True:
                    try:
                        r = b.issue("A", id=cid, timeout=1.0)
                        answers[cid] = r["ticket"]["number"]
                        break
                    except BusError:
                        continue  # same id again: the press is not lost
            done.set()

        worker = threading.Thread(target=client)
        worker.start()
        for kills in range(1, 5):
            assert wait_until(lambda k=kills: len(answers) >= k * 12, 60), b.master.log()
            b.master.kill()
            b.master.start()
        assert done.wait(120), b.master.log()
        worker.join()
    numbers = list(answers.values())
    assert len(numbers) == 60
    assert len(set(numbers)) == 60, "a number was given twice"
    with sqlite3.connect(b.db) as db:
        rows = db.execute("SELECT label FROM tickets ORDER BY id").fetchall()
        applied = db.execute("SELECT COUNT(*) FROM commands").fetchone()[0]
    assert sorted(r[0] for r in rows) == sorted(numbers), "the database and the answers differ"
    assert [r[0] for r in rows] == [f"A{n:03d}" for n in range(1, 61)], "a number was skipped"
    assert applied == 60


def test_master_republishes_state_after_a_broker_restart(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "broker") as own, running_branch(tmp_path, own.url) as b:
        t = b.config_topics()
        b.issue("E")
        # Wipe the retained state, then restart the broker: only the master
        # can put it back.
        wiper = BusClient(b.config, role="tool", unit="wiper", presence=False)
        wiper.start()
        assert wiper.wait_connected(10)
        wiper.publish(t.service_state("inquiries"), b"", retain=True).wait_for_publish(5)
        wiper.stop()
        own.restart()
        b.wait_master_online(30)
        watch = Watcher(b.config, t.service_state("inquiries"))
        msg = watch.wait_for(
            lambda m: m.topic == t.service_state("inquiries") and bool(m.payload), 30
        )
        assert msg.json()["waiting"] == 1
        watch.close()
        assert (
            b.issue("E", id=new_command_id("after"), timeout=5, attempts=3)["ticket"]["number"]
            == "E002"
        )


def test_master_tells_systemd_it_is_ready_and_alive(broker: Mosquitto, tmp_path: Path) -> None:
    import socket

    from appliance.sim.harness.procs import Daemon
    from tests.support import write_config

    config = write_config(tmp_path, broker.url)
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(15)
    env = {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"}
    master = Daemon(
        ["master", "--config", str(config), "--db", str(tmp_path / "m.db")],
        tmp_path / "master.log",
        env=env,
    )
    with master:
        received = [sock.recv(4096).decode()]
        while not any("WATCHDOG=1" in r for r in received):
            received.append(sock.recv(4096).decode())
        master.stop()
        received.append(sock.recv(4096).decode())
    sock.close()
    assert "READY=1" in received[0]
    assert "STOPPING=1" in received[-1]
