"""The documented install, end to end (README "Install", docs/install.md).

1. ``nidaa provision`` for the example branch (two kiosks); a real Mosquitto
   runs its ``nidaa.conf`` (dynamic-security plugin, client ids bound).
2. ``nidaa install --root`` of every role into fake roots: master and SMS
   gateway into one root, each kiosk, counter unit and the hall display into
   its own; each root's branch file is the example on simulated hardware with
   its paths under that root (what a bind mount of the Pi's folders would be).
3. Each installed unit starts as systemd would start it: its unit file's
   ``ExecStart`` with ``$NIDAA_ARGS`` from its env file, its installed
   credential, the working directory /var/lib/nidaa of its root.
4. ``nidaa status --json`` with the technician's credential shows every unit
   online; the README's daily commands work from a unit's root; a unit's own
   credential is refused by them with exit 3 and the reason.
5. A killed counter unit turns offline (its Last Will, after the keep-alive)
   and online again once restarted; Mosquitto's log has no ``Denied``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.sim.demo.chaos_branch import to_toml
from appliance.sim.harness.broker import Mosquitto, free_port
from tests.support import LinkedVenvImage
from tests.support.install import Units, branch_for, nidaa, statuses, wait_for

#: root → (role, unit) installed there.
ROOTS = {
    "master-pi": [("master", "master"), ("sms-gateway", "sms1")],
    "kiosk1": [("kiosk", "k1")],
    "kiosk2": [("kiosk", "k2")],
    "counter1": [("counter", "counter-w1")],
    "counter2": [("counter", "counter-w2")],
    "hall": [("display", "d1")],
}


@pytest.fixture
def branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Units, Mosquitto]]:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    generic = tmp_path / "branch.toml"
    generic.write_text(to_toml(branch_for(tmp_path / "x", url)), encoding="utf-8")
    prov = tmp_path / "provision"
    quiet = Environment(stdout=open(os.devnull, "w"), stderr=sys.stderr)  # noqa: SIM115
    assert run(["provision", "--config", str(generic), "--out", str(prov), "--port", str(port),
                "--bind", "127.0.0.1"], quiet) == 0  # fmt: skip
    conf = (prov / "nidaa.conf").read_text() + "log_type debug\n"  # "Denied PUBLISH" is debug
    # The harness's own listener is another free port; units use the provisioned one.
    broker = Mosquitto(tmp_path / "broker", extra_conf=conf, anonymous=False)
    broker.start()
    monkeypatch.setattr(install_cmd, "host_system", LinkedVenvImage)
    units = Units(tmp_path)
    try:
        for name, roles in ROOTS.items():
            root = tmp_path / name
            config = tmp_path / f"{name}.toml"
            config.write_text(to_toml(branch_for(root, url)), encoding="utf-8")
            for role, unit in roles:
                argv = ["install", "--role", role, "--config", str(config), "--root", str(root),
                        "--credentials", str(prov / "credentials"), "--unit", unit]  # fmt: skip
                if role in ("master", "sms-gateway"):
                    argv = argv[:-2]  # one of each per branch: no --unit
                assert run(argv, quiet) == 0
                out = Environment(stdout=(buf := io.StringIO()), stderr=sys.stderr)
                assert run(argv, out) == 0 and buf.getvalue().strip() == "unchanged"
        for name, roles in ROOTS.items():
            for role, unit in roles:
                units.start(tmp_path / name, role, unit)
        yield tmp_path, units, broker
    finally:
        units.stop_all()
        broker.close()


EVERY_UNIT = {"master", "sms1", "k1", "k2", "counter-w1", "counter-w2", "d1"}


def test_the_documented_install_comes_up_whole(
    branch: tuple[Path, Units, Mosquitto],
) -> None:
    tmp, units, _broker = branch
    tech = tmp / "provision/credentials/tech.toml"
    kiosk_root = tmp / "kiosk1"
    seen: dict[str, str] = {}

    def all_online() -> bool:
        seen.clear()
        seen.update(statuses(kiosk_root, tech))
        return {u for u, s in seen.items() if s == "online"} >= EVERY_UNIT

    try:
        wait_for("every unit online", all_online)
    except AssertionError:
        logs = {p.name: p.read_text()[-800:] for p in tmp.glob("*.log")}
        raise AssertionError(f"status {seen}; logs {logs}") from None

    # The README's daily commands, from a unit's root, with the technician's account.
    queue = nidaa(kiosk_root, "queue", "--json", credential=tech)
    assert queue.returncode == 0, queue.stderr
    assert {s["prefix"] for s in json.loads(queue.stdout)["services"]} >= {"A", "E"}
    issued = nidaa(kiosk_root, "ticket", "issue", "A", credential=tech)
    assert issued.returncode == 0 and issued.stdout.startswith("A"), issued.stderr
    called = nidaa(tmp / "counter2", "counter", "call-next", "2", credential=tech)
    assert called.returncode == 0 and "A" in called.stdout, called.stderr
    assert "connected" not in queue.stderr + issued.stderr  # quiet by default

    # A unit's own credential stays its daemon's: refused, with the reason.
    own = nidaa(kiosk_root, "queue", credential=kiosk_root / "etc/nidaa/credentials/k1.toml")
    assert own.returncode == 3 and "technician's credential" in own.stderr

    log = (tmp / "broker/mosquitto.log").read_text()
    assert "Denied" not in log, [ln for ln in log.splitlines() if "Denied" in ln]

    # A counter unit killed: offline by its Last Will, online again when restarted.
    units.kill("counter-w1")
    wait_for(
        "counter-w1 offline", lambda: statuses(kiosk_root, tech).get("counter-w1") == "offline"
    )
    units.start(tmp / "counter1", "counter", "counter-w1")
    wait_for("counter-w1 online", lambda: statuses(kiosk_root, tech).get("counter-w1") == "online")

    # The log check above is not blind: a denied publish is logged as such.
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    cred = tomllib.loads((tmp / "provision/credentials/k1.toml").read_text())
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="k1", protocol=mqtt.MQTTv5)
    probe.username_pw_set(cred["username"], cred["password"])
    probe.connect("127.0.0.1", int(cred["broker_url"].rsplit(":", 1)[1]))
    probe.loop_start()
    try:
        probe.publish("nidaa/giza-dokki/cmd/counter/w1/call-next", b"{}", qos=1).wait_for_publish(
            10
        )
    finally:
        probe.disconnect()
        probe.loop_stop()
    wait_for(
        "the denial logged", lambda: "Denied PUBLISH" in (tmp / "broker/mosquitto.log").read_text()
    )
