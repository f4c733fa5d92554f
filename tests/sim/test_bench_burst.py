"""`nidaa bench`'s master under load, against a real master: a burst of issue
requests at once, and eight clients each waiting for its answer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.bus.client import BusClient
from appliance.config.branch import load_config
from appliance.sim.bench.load import burst, throughput
from appliance.sim.bench.masters import start_master, wait_answering
from appliance.sim.harness import unthrottled
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import Daemon
from tests.support import EXAMPLE_CONFIG


def _config(tmp_path: Path, *, throttled: bool = False, last: int | None = None) -> Path:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if not throttled:
        text = unthrottled(text)
    if last is not None:  # every service's numbers end at ``last``
        text = text.replace("[[services]]\n", f"[[services]]\nlast = {last}\n")
    config = tmp_path / "branch.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_every_request_of_a_burst_is_answered_with_a_durable_ticket(tmp_path: Path) -> None:
    config = _config(tmp_path)
    cfg = load_config(config)
    with Mosquitto(tmp_path / "broker") as broker:
        figures = burst(cfg, config, broker.url, tmp_path / "burst", 150)
    assert figures["master_burst_tickets"] == 150
    assert figures["master_burst_tickets_per_s"] > 0
    assert figures["master_burst_cpu_ms_per_ticket"] > 0
    with sqlite3.connect(tmp_path / "burst" / "master.db") as db:
        issued = dict(db.execute("SELECT service, COUNT(*) FROM tickets GROUP BY service"))
    assert issued == {s.id: 150 // len(cfg.services) for s in cfg.services}


def test_a_burst_never_asks_a_service_for_more_numbers_than_it_has(tmp_path: Path) -> None:
    config = _config(tmp_path, last=20)
    cfg = load_config(config)
    assert all(s.last == 20 for s in cfg.services)
    with Mosquitto(tmp_path / "broker") as broker:
        figures = burst(cfg, config, broker.url, tmp_path / "burst", 1000)
    rooms = sum(s.last - s.first + 1 for s in cfg.services)
    assert figures["master_burst_tickets"] == rooms < 1000


def test_a_refused_request_fails_theburst(tmp_path: Path) -> None:
    # The example's tickets a minute per unit: past them the master refuses.
    config = _config(tmp_path, throttled=True)
    with Mosquitto(tmp_path / "broker") as broker, pytest.raises(RuntimeError, match="refused"):
        burst(load_config(config), config, broker.url, tmp_path / "burst", 150)


def _answering_master(config: Path, url: str, tmp_path: Path) -> Daemon:
    master = start_master(config, url, tmp_path / "m.db", tmp_path / "m.log")
    probe = BusClient(load_config(config), role="tool", unit="probe", broker_url=url, presence=False)
    probe.start()
    try:
        wait_answering(probe, master)
    finally:
        probe.stop()
    return master


def test_eight_waiting_clients_get_durable_tickets_spread_past_the_first_service(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    cfg = load_config(config)
    with Mosquitto(tmp_path / "broker") as broker:
        master = _answering_master(config, broker.url, tmp_path)
        try:
            figure = throughput(cfg, broker.url, clients=8, per_client=10)
        finally:
            master.stop()
    assert figure > 0
    with sqlite3.connect(tmp_path / "m.db") as db:
        issued = dict(db.execute("SELECT service, COUNT(*) FROM tickets GROUP BY service"))
    others = [s.id for s in cfg.services[1:]]
    assert issued == {s: 80 // len(others) + (i < 80 % len(others)) for i, s in enumerate(others)}


def test_the_eight_clients_never_ask_a_service_for_more_numbers_than_it_has(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, last=5)
    cfg = load_config(config)
    with Mosquitto(tmp_path / "broker") as broker:
        master = _answering_master(config, broker.url, tmp_path)
        try:
            assert throughput(cfg, broker.url, clients=8, per_client=10) > 0
        finally:
            master.stop()
    with sqlite3.connect(tmp_path / "m.db") as db:
        issued = dict(db.execute("SELECT service, COUNT(*) FROM tickets GROUP BY service"))
    assert issued == {s.id: 5 for s in cfg.services[1:]}


def test_a_refused_request_fails_the_eight_client_figure(tmp_path: Path) -> None:
    # The example's tickets a minute per unit: past them the master refuses.
    config = _config(tmp_path, throttled=True)
    with Mosquitto(tmp_path / "broker") as broker:
        master = _answering_master(config, broker.url, tmp_path)
        try:
            with pytest.raises(RuntimeError, match="refused"):
                throughput(load_config(config), broker.url, clients=8, per_client=10)
        finally:
            master.stop()
