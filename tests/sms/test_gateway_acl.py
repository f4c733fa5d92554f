"""The SMS path under the broker's real users and ACL (`nidaa provision`):
each unit with its own account can do its part, and the gateway's
acknowledgement reaches the master."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appliance.bus.client import BusClient, new_command_id
from appliance.config.branch import load_config
from appliance.drivers.modem.sim import SimulatedModem
from appliance.sim.harness.broker import Mosquitto, free_port
from appliance.sim.harness.procs import Daemon, wait_until
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import write_config
from tests.support.sms import PHONE, expected, sms_replace


def unit_config(base: Path, unit: str, url: str, creds: Path) -> Path:
    text = base.read_text(encoding="utf-8")
    old_url = load_config(base).broker.url
    account = f'url = "{url}"\nusername = "{unit}"\npassword_file = "{creds / unit}.password"'
    path = base.with_name(f"{unit}.toml")
    path.write_text(text.replace(f'url = "{old_url}"', account, 1), encoding="utf-8")
    return path


def client(path: Path, role: str, unit: str) -> BusClient:
    bus = BusClient(load_config(path), role=role, unit=unit, client_id=unit, presence=False)
    bus.start()
    assert bus.wait_connected(10), f"{unit} could not connect"
    return bus


@pytest.mark.slow
def test_stage_sms_under_the_broker_acl(tmp_path: Path) -> None:
    with SimulatedModem(tmp_path / "modem") as sim:
        base = write_config(tmp_path, "mqtt://127.0.0.1:1", replace=sms_replace(tmp_path, sim.link))  # type: ignore[arg-type]
        cfg = load_config(base)
        out, port = tmp_path / "provision", free_port()
        provision(cfg, ProvisionOptions(out=out, port=port, bind="127.0.0.1"))
        conf = (out / "nidaa.conf").read_text()
        url, creds = f"mqtt://127.0.0.1:{port}", out / "credentials"
        with Mosquitto(tmp_path / "broker", extra_conf=conf, anonymous=False):
            master = Daemon(
                ["master", "--config", str(unit_config(base, "master", url, creds)),
                 "--db", str(tmp_path / "master.db")],
                tmp_path / "master.log",
            ).start()  # fmt: skip
            gateway = Daemon(
                ["sms-gateway", "--config", str(unit_config(base, "sms1", url, creds))],
                tmp_path / "gw.log",
            ).start()
            kiosk = client(unit_config(base, "k1", url, creds), "kiosk", "k1")
            # The counter unit at window w1, by its own unit id and credential.
            clerk = client(unit_config(base, "counter-w1", url, creds), "counter", "counter-w1")
            try:
                t = kiosk.topics
                body: dict[str, Any] = {"id": new_command_id("k1"), "service": "A"}
                ticket = kiosk.request(t.ticket_cmd("k1", "issue"), body, timeout=5, attempts=4)
                body = {"id": new_command_id("counter-w1"), "ticket": ticket["ticket"]["number"],
                        "phone": "010 1234 5678", "ref": "ACL-1"}  # fmt: skip
                answer = clerk.request(
                    t.request_cmd("counter-w1", "register"), body, timeout=5, attempts=3
                )
                assert answer["request"]["phone"] == "+20 10* *** **78"
                assert sim.wait_for("messages", 1, timeout=20), gateway.log()
                assert sim.messages == [
                    (PHONE, expected(cfg, "issued", ticket="A001", ref="ACL-1"))
                ]

                def acknowledged() -> bool:
                    with sqlite3.connect(tmp_path / "master.db") as db:
                        rows = db.execute("SELECT acked_at FROM sms_stage_events").fetchall()
                    return bool(rows) and all(r[0] is not None for r in rows)

                assert wait_until(acknowledged, 10), gateway.log()
            finally:
                kiosk.stop()
                clerk.stop()
                gateway.stop()
                master.stop()
