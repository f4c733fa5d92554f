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

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.sim.demo.chaos_branch import to_toml
from appliance.sim.harness.broker import Mosquitto, free_port
from tests.support import EXAMPLE_CONFIG, LinkedVenvImage

KEEPALIVE = 5
WAIT = 90.0  # generous: a loaded machine; never a timing assertion

#: root → (role, unit) installed there.
ROOTS = {
    "master-pi": [("master", "master"), ("sms-gateway", "sms1")],
    "kiosk1": [("kiosk", "k1")],
    "kiosk2": [("kiosk", "k2")],
    "counter1": [("counter", "counter-w1")],
    "counter2": [("counter", "counter-w2")],
    "hall": [("display", "d1")],
}


def branch_for(root: Path, url: str) -> dict:  # type: ignore[type-arg]
    """The example branch on simulated hardware, its paths under ``root``."""
    doc = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    state = root / "var/lib/nidaa"
    doc["broker"] = {"url": url, "keepalive": KEEPALIVE,
                     "credentials_dir": str(root / "etc/nidaa/credentials")}  # fmt: skip
    doc["master"]["database"] = str(state / "master.db")
    kiosks = []
    for unit in ("k1", "k2"):
        k = dict(doc["kiosks"][0], unit=unit, pin_factory="mock",
                 journal=str(state / f"kiosk-{unit}.journal"))  # fmt: skip
        k["printer"] = {"backend": "simulated", "output_dir": str(state / f"tickets-{unit}")}
        kiosks.append(k)
    doc["kiosks"] = kiosks
    for cu in doc["counter_units"]:
        cu["pin_factory"] = "mock"
        cu["display"] = {"backend": "simulated", "digits": 4,
                         "record_file": str(state / f"{cu['unit']}.jsonl")}  # fmt: skip
    doc["displays"][0]["audio"] = "none"
    doc["sms"].update(modem="sim", outbox=str(state / "sms-outbox.db"))
    return doc


def service_command(root: Path, role: str) -> tuple[list[str], dict[str, str]]:
    """The installed unit's ExecStart, as systemd expands it, inside ``root``."""
    unit = (root / f"etc/systemd/system/nidaa-{role}.service").read_text()
    exec_start = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    env_file = root / f"etc/nidaa/nidaa-{role}.env"
    env = dict(os.environ)
    for line in unit.splitlines():
        if line.startswith("Environment="):
            env.update(kv.split("=", 1) for kv in shlex.split(line.split("=", 1)[1]))
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = shlex.split(value)[0] if value.strip('"') else ""
    argv: list[str] = []
    for word in shlex.split(exec_start.split("=", 1)[1]):
        if word == "$NIDAA_ARGS":
            argv += shlex.split(env.get("NIDAA_ARGS", ""))
        elif word.startswith(("/opt/nidaa", "/etc/nidaa")):
            argv.append(str(root / word.lstrip("/")))
        else:
            argv.append(word)
    env["SDL_VIDEODRIVER"] = env["SDL_AUDIODRIVER"] = "dummy"
    env.pop("NOTIFY_SOCKET", None)
    return argv, env


class Units:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, root: Path, role: str, unit: str) -> None:
        argv, env = service_command(root, role)
        log = open(self.tmp / f"{unit}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[unit] = subprocess.Popen(
            argv, env=env, cwd=root / "var/lib/nidaa", stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        log.close()

    def kill(self, unit: str) -> None:
        proc = self.procs.pop(unit)
        proc.kill()
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
                out = Environment(stdout=(buf := _Buffer()), stderr=sys.stderr)
                assert run(argv, out) == 0 and buf.text.strip() == "unchanged"
        for name, roles in ROOTS.items():
            for role, unit in roles:
                units.start(tmp_path / name, role, unit)
        yield tmp_path, units, broker
    finally:
        units.stop_all()
        broker.close()


class _Buffer:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


def nidaa(root: Path, *args: str, credential: Path | None) -> subprocess.CompletedProcess[str]:
    """A daily command as the technician types it on that Pi (bare `nidaa`)."""
    env = dict(os.environ, NIDAA_CONFIG=str(root / "etc/nidaa/branch.toml"))
    env.pop("NIDAA_CREDENTIAL", None)
    if credential is not None:
        env["NIDAA_CREDENTIAL"] = str(credential)
    exe = root / "opt/nidaa/venv/bin/nidaa"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=60)


def statuses(root: Path, tech: Path) -> dict[str, str]:
    done = nidaa(root, "status", "--json", credential=tech)
    assert done.returncode in (0, 6), done.stderr
    return {u["unit"]: u["state"] for u in json.loads(done.stdout)["units"]}


def wait_for(what: str, check: object) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {WAIT:.0f} s: {what}")


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
