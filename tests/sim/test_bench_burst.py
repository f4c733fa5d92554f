"""`nidaa bench`'s burst: many issue requests at once, against a real master."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.bus.client import BusClient
from appliance.config.branch import load_config
from appliance.sim.bench.run import _answers, _burst
from appliance.sim.harness import unthrottled
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import Daemon, wait_until
from tests.support import EXAMPLE_CONFIG


def _master(tmp_path: Path, url: str, *, throttled: bool = False) -> tuple[Path, Path, Daemon]:
    """A master process, once it answers (as ``nidaa bench`` starts the burst)."""
    config = tmp_path / "branch.toml"
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    config.write_text(text if throttled else unthrottled(text), encoding="utf-8")
    db = tmp_path / "master.db"
    args = ["master", "--config", str(config), "--broker", url, "--db", str(db)]
    master = Daemon(args, tmp_path / "master.log").start()
    tool = BusClient(load_config(config), role="tool", unit="t", broker_url=url, presence=False)
    tool.start()
    try:
        snapshot = tool.topics.queue_cmd(tool.sender, "snapshot")
        assert wait_until(lambda: _answers(tool, snapshot), 20), master.log()
    finally:
        tool.stop()
    return config, db, master


def test_every_request_of_a_burst_is_answered_with_a_durable_ticket(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "broker") as broker:
        config, db, master = _master(tmp_path, broker.url)
        try:
            figures = _burst(load_config(config), broker.url, master.pid, 150)
        finally:
            master.stop()
    assert figures["master_burst_tickets"] == 150
    assert figures["master_burst_tickets_per_s"] > 0
    assert figures["master_burst_cpu_ms_per_ticket"] > 0
    with sqlite3.connect(db) as con:
        issued = con.execute("SELECT service, COUNT(*) FROM tickets GROUP BY service").fetchall()
    # Spread over the services from the third on, none of the first two.
    cfg = load_config(config)
    assert dict(issued) == {s.id: 150 // len(cfg.services[2:]) for s in cfg.services[2:]}


def test_a_refused_request_fails_the_burst(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "broker") as broker:
        # The example's tickets a minute per unit: past them the master refuses.
        config, _, master = _master(tmp_path, broker.url, throttled=True)
        try:
            with pytest.raises(RuntimeError, match="refused"):
                _burst(load_config(config), broker.url, master.pid, 150)
        finally:
            master.stop()
