"""Three Pis of a branch with a standby master, set up with `nidaa` alone
(docs/standby.md, "Setting up three Pis"), on one machine:

1. ``nidaa provision`` of a branch with ``[ha]`` (three etcd members on
   loopback, https) and a second broker (``broker.fallback_urls``);
2. ``nidaa install --root`` into three images with Debian's etcd-server and
   mosquitto installed: Pi A the master, etcd-1 and broker-1 from the
   provisioning folder; Pi B master-b, etcd-2 and broker-2, Pi C etcd-3, each
   from its own ``nidaa pack`` (no CA key) (each twice: the second says
   ``unchanged``);
3. three real etcd processes started from each image's /etc/default/etcd
   (its paths inside the image), both Mosquittos from the nidaa.conf each
   image's /etc/mosquitto/conf.d links to, both masters from their installed
   unit's ExecStart, env file and credentials;
4. a ticket issued; the active master killed; the other takes over and
   issues the next number; broker-1 killed: units and masters reach broker-2
   with their generated passwords and the branch issues on; etcd refuses a
   client without the candidates' certificate.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.master.etcd import Etcd, EtcdUnavailable
from appliance.sim.demo.chaos_branch import to_toml
from appliance.sim.harness.broker import Mosquitto, free_port
from appliance.sim.harness.etcd import find_etcd
from appliance.tech.install_cluster import env_values
from tests.support import LinkedVenvImage
from tests.support.etcd import packaged_image, two_free_ports
from tests.support.install import Units, branch_for, nidaa, wait_for

#: image → what `nidaa install` puts there: (role, unit).
PIS = {
    "pi-a": [("etcd", "etcd-1"), ("broker", "broker-1"), ("master", "master")],
    "pi-b": [("etcd", "etcd-2"), ("broker", "broker-2"), ("master", "master-b")],
    "pi-c": [("etcd", "etcd-3")],
}


def branch(root: Path, urls: list[str], endpoints: list[str]) -> str:
    doc = branch_for(root, urls[0])
    doc["broker"]["fallback_urls"] = urls[1:]
    etc = root / "etc/nidaa/etcd"  # the image's files, as a bind mount of its /etc would give
    doc["ha"] = {"endpoints": endpoints, "candidates": ["master", "master-b"], "lease_s": 2.0,
                 "ca_file": str(etc / "ca.crt"), "cert_file": str(etc / "client.crt"),
                 "key_file": str(etc / "client.key")}  # fmt: skip
    return to_toml(doc)


def inside(root: Path, value: str) -> str:
    """A path as the Pi names it, inside the image at ``root``."""
    return str(root / value.lstrip("/")) if value.startswith("/") else value


class Site:
    """Every process of the three Pis; all killed at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.etcd: list[subprocess.Popen[bytes]] = []
        self.brokers: dict[str, Mosquitto] = {}
        self.units = Units(tmp)

    def start_etcd(self, root: Path) -> None:
        """etcd as etcd.service runs it: its settings from /etc/default/etcd."""
        settings = env_values((root / "etc/default/etcd").read_text())
        env = {**os.environ, **{k: inside(root, v) for k, v in settings.items()}}
        log = open(self.tmp / f"{settings['ETCD_NAME']}.log", "wb")  # noqa: SIM115
        self.etcd.append(subprocess.Popen([find_etcd()], env=env, stdout=log, stderr=log,
                                          start_new_session=True))  # fmt: skip
        log.close()

    def start_broker(self, root: Path, name: str) -> Mosquitto:
        """Mosquitto with the nidaa.conf its conf.d links to (its paths inside the image)."""
        link = root / "etc/mosquitto/conf.d/nidaa.conf"
        conf = Path(inside(root, str(link.readlink()))).read_text()
        conf = conf.replace(" /etc/mosquitto/", f" {root}/etc/mosquitto/")
        broker = Mosquitto(self.tmp / name, extra_conf=conf, anonymous=False)
        self.brokers[name] = broker.start()
        return broker

    def close(self) -> None:
        self.units.stop_all()
        for proc in self.etcd:
            proc.kill()
            proc.wait()
        for broker in self.brokers.values():
            broker.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Site]]:
    while len(ports := {two_free_ports() for _ in range(3)}) < 3 or any(
        p + 1 in ports for p in ports
    ):
        pass  # three members, six distinct ports
    endpoints = [f"https://127.0.0.1:{p}" for p in sorted(ports)]
    urls = [f"mqtt://127.0.0.1:{free_port()}" for _ in range(2)]
    generic = tmp_path / "branch.toml"
    generic.write_text(branch(tmp_path / "x", urls, endpoints), encoding="utf-8")
    prov = tmp_path / "provision"
    quiet = Environment(stdout=io.StringIO(), stderr=sys.stderr)
    assert run(["provision", "--config", str(generic), "--out", str(prov), "--port",
                urls[0].rsplit(":", 1)[1], "--bind", "127.0.0.1",
                "--conf-dir", "/etc/mosquitto/nidaa"], quiet) == 0  # fmt: skip
    monkeypatch.setattr(install_cmd, "host_system", LinkedVenvImage)
    s = Site(tmp_path)
    try:
        for pi, roles in PIS.items():
            root = tmp_path / pi
            packaged_image(root)  # apt-get install etcd-server mosquitto
            config = tmp_path / f"{pi}.toml"
            config.write_text(branch(root, urls, endpoints), encoding="utf-8")
            source = prov  # Pi A keeps the provisioning folder; B and C get a pack
            if pi != "pi-a":
                source = tmp_path / f"pack-{pi}"
                assert run(["pack", "--config", str(generic), "--from", str(prov), "--out",
                            str(source), *(u for _, u in roles)], quiet) == 0  # fmt: skip
                assert not any(p.name == "ca.key" for p in source.rglob("*"))
            for role, unit in roles:
                argv = ["install", "--role", role, "--unit", unit, "--config", str(config),
                        "--root", str(root), "--from", str(source)]  # fmt: skip
                assert run(argv, quiet) == 0
                out = Environment(stdout=(buf := io.StringIO()), stderr=sys.stderr)
                assert run(argv, out) == 0 and buf.getvalue().strip() == "unchanged"
        for pi in PIS:
            s.start_etcd(tmp_path / pi)
        s.start_broker(tmp_path / "pi-a", "broker-1")
        s.start_broker(tmp_path / "pi-b", "broker-2")
        s.units.start(tmp_path / "pi-a", "master", "master")
        s.units.start(tmp_path / "pi-b", "master", "master-b")
        yield tmp_path, s
    finally:
        s.close()


def standby(root: Path, tech: Path) -> dict[str, object]:
    done = nidaa(root, "status", "--json", credential=tech)
    assert done.returncode in (0, 6), done.stderr
    return dict(json.loads(done.stdout).get("standby") or {})


def issue(root: Path, tech: Path) -> str:
    """`nidaa ticket issue A` as typed, until some master answers (a kiosk retries too)."""
    numbers: list[str] = []

    def answered() -> bool:
        done = nidaa(root, "ticket", "issue", "A", credential=tech)
        if done.returncode == 0:
            numbers.append(done.stdout.split()[0])
        return bool(numbers)

    wait_for("a ticket issued", answered)
    return numbers[0]


def test_three_pis_set_up_with_nidaa_alone_take_over_and_fail_over(
    site: tuple[Path, Site],
) -> None:
    tmp, s = site
    tech = tmp / "provision/credentials/tech.toml"
    pi_c = tmp / "pi-c"
    pi = tmp / "pi-a"  # the technician types the commands on Pi A (its master may be dead)
    wait_for("an active master", lambda: standby(pi, tech).get("active") is not None)
    first = str(standby(pi, tech)["active"])
    assert issue(pi, tech) == "A001"
    wait_for("etcd 3/3 up", lambda: standby(pi, tech).get("etcd_up") == 3)

    # The active master dies: the other takes over and goes on numbering.
    s.units.kill(first)
    second = "master-b" if first == "master" else "master"
    # (A command that timed out at the moment of takeover may still have taken
    # a number: the next is higher, never the same.)
    after = issue(pi, tech)
    assert after > "A001", [p.read_text()[-600:] for p in tmp.glob("master*.log")]
    assert standby(pi, tech)["active"] == second

    # Broker-1's Pi goes: everyone meets on broker-2 (same accounts, their passwords).
    s.brokers["broker-1"].stop(kill=True)
    assert issue(pi, tech) > after
    cred = tomllib.loads((tmp / "provision/credentials/k1.toml").read_text())
    second_url = tomllib.loads((tmp / "pi-b.toml").read_text())["broker"]["fallback_urls"][0]
    port = int(second_url.rsplit(":", 1)[1])
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="k1", protocol=mqtt.MQTTv5)
    probe.username_pw_set(cred["username"], cred["password"])
    assert probe.connect("127.0.0.1", port) == 0
    codes: list[object] = []
    probe.on_connect = lambda c, u, f, rc, p=None: codes.append(rc)
    probe.loop_start()
    try:
        wait_for("k1 logged in to broker-2", lambda: bool(codes))
        assert not codes[0].is_failure, codes  # type: ignore[attr-defined]
    finally:
        probe.disconnect()
        probe.loop_stop()
    wrong = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="k1", protocol=mqtt.MQTTv5)
    wrong.username_pw_set(cred["username"], "not-its-password")
    refused: list[object] = []
    wrong.on_connect = lambda c, u, f, rc, p=None: refused.append(rc)
    wrong.connect("127.0.0.1", port)
    wrong.loop_start()
    try:
        wait_for("a wrong password refused", lambda: bool(refused))
        assert refused[0].is_failure  # type: ignore[attr-defined]
    finally:
        wrong.disconnect()
        wrong.loop_stop()

    # etcd answers only the candidates' certificate.
    endpoints = tomllib.loads((tmp / "pi-c.toml").read_text())["ha"]["endpoints"]
    stranger = Etcd(endpoints, timeout_s=1.0, ca_file=str(pi_c / "etc/nidaa/etcd/ca.crt"))
    with pytest.raises(EtcdUnavailable):
        stranger.put(b"/nidaa/stranger", b"no")
    stranger.close()
