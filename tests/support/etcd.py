"""A private three-member etcd cluster, and a branch with two master candidates on it.

The members are real ``etcd`` processes (the OS package) on free loopback
ports with their data in the test's folder; they are killed at teardown.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from appliance.bus.client import BusClient, new_command_id
from appliance.bus.topics import Topics
from appliance.config.branch import Config, load_config
from appliance.sim.harness.broker import free_port
from appliance.sim.harness.etcd import EtcdCluster
from appliance.sim.harness.procs import Daemon, wait_until
from appliance.tech.system import ImageSystem

from . import EXAMPLE_CONFIG, Watcher, write_config

CANDIDATES = ("master", "master-b")


def two_free_ports() -> int:
    """A port whose next one is free too (an etcd member's client and peer ports)."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def packaged_image(root: Path) -> ImageSystem:
    """An image (``nidaa install --root``) with etcd-server and mosquitto
    installed as their Debian packages leave it: their users and groups in
    the image's own tables, their systemd units and /etc/default/etcd copied
    from this machine's packages."""
    image = ImageSystem(root)
    for user, home in (("etcd", "/var/lib/etcd"), ("mosquitto", "/var/lib/mosquitto")):
        if not image.user_exists(user):
            image.add_user(user, Path(home))
    for unit in ("etcd.service", "mosquitto.service"):
        src = next(p for p in (Path("/lib/systemd/system") / unit,
                               Path("/usr/lib/systemd/system") / unit) if p.is_file())  # fmt: skip
        (root / "lib/systemd/system").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, root / "lib/systemd/system" / unit)
    (root / "etc/default").mkdir(parents=True, exist_ok=True)
    shutil.copyfile("/etc/default/etcd", root / "etc/default/etcd")
    return image


@contextmanager
def etcd_cluster(workdir: Path) -> Iterator[EtcdCluster]:
    with EtcdCluster(workdir) as cluster:
        yield cluster


def ha_section(endpoints: list[str], lease_s: float = 2.0, **extra: Any) -> str:
    lines = ["", "[ha]", f"endpoints = {json.dumps(endpoints)}"]
    lines += [f"candidates = {json.dumps(list(CANDIDATES))}", f"lease_s = {lease_s}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


class HaBranch:
    """Two master candidates (real processes, one database each) on one
    broker and one etcd cluster, and a client to send commands."""

    def __init__(
        self,
        tmp_path: Path,
        broker_url: str,
        cluster: EtcdCluster,
        fallback_brokers: list[str] | None = None,
        **ha: Any,
    ) -> None:
        url = f'url = "{broker_url}"'
        more = f"\nfallback_urls = {json.dumps(fallback_brokers)}" if fallback_brokers else ""
        self.config_path = write_config(tmp_path, broker_url, replace={url: url + more})
        with self.config_path.open("a", encoding="utf-8") as f:
            f.write(ha_section(cluster.endpoints, **ha))
        self.config: Config = load_config(self.config_path)
        self.broker_url = broker_url
        self.topics = Topics(self.config.branch.id)
        self.cluster = cluster
        self.dbs = {u: tmp_path / f"{u}.db" for u in CANDIDATES}
        self.masters = {
            u: Daemon(
                ["master", "--config", str(self.config_path), "--db", str(db), "--unit", u],
                tmp_path / f"{u}.log",
            )
            for u, db in self.dbs.items()
        }
        uid = new_command_id("client")
        self.client = BusClient(self.config, role="tool", unit=uid, client_id=uid, presence=False)
        self.watch = Watcher(self.config, self.topics.role_status("master"))

    def start(self) -> HaBranch:
        self.client.start()
        assert self.client.wait_connected(10)
        for daemon in self.masters.values():
            daemon.start()
        assert self.wait_active() is not None, self.logs()
        return self

    def config_topics(self) -> Topics:
        return self.topics

    def status(self, unit: str) -> dict[str, Any]:
        return self.watch.latest(self.topics.status("master", unit)) or {}

    def active(self) -> str | None:
        online = [u for u in CANDIDATES if self.status(u).get("state") == "online"]
        return online[0] if len(online) == 1 else None

    def wait_active(self, other_than: str | None = None, timeout: float = 20.0) -> str | None:
        """The candidate that says it is active (``other_than`` a paused one
        whose retained status still says so)."""

        def found() -> str | None:
            online = [u for u in CANDIDATES if self.status(u).get("state") == "online"]
            online = [u for u in online if u != other_than]
            return online[0] if len(online) == 1 else None

        return found() if wait_until(lambda: found() is not None, timeout, 0.05) else None

    def issue(self, cid: str | None = None, timeout: float = 2.0, attempts: int = 1) -> Any:
        body = {"id": cid or new_command_id("t"), "service": "A", "priority": False}
        return self.client.request(
            self.topics.ticket_cmd(self.client.sender, "issue"),
            body,
            timeout=timeout,
            attempts=attempts,
        )

    def logs(self) -> str:
        return "\n".join(f"--- {u}\n{d.log()[-3000:]}" for u, d in self.masters.items())

    def close(self) -> None:
        self.client.stop()
        self.watch.close()
        for daemon in self.masters.values():
            daemon.signal(18)  # SIGCONT: a paused one must be able to stop
            daemon.stop()


@contextmanager
def ha_branch(
    tmp_path: Path,
    broker_url: str,
    cluster: EtcdCluster,
    fallback_brokers: list[str] | None = None,
    **ha: Any,
) -> Iterator[HaBranch]:
    branch = HaBranch(tmp_path, broker_url, cluster, fallback_brokers, **ha)
    try:
        yield branch.start()
    finally:
        branch.close()


#: A branch with a standby master over https and a second broker over TLS.
STANDBY_ENDPOINTS = ["https://10.0.0.10:2379", "https://10.0.0.11:2379", "https://10.0.0.12:2379"]
STANDBY_SECOND = "mqtts://10.0.0.11:8883"


def provision_standby_branch(tmp: Path, etc: str = "/etc/nidaa/etcd") -> tuple[Path, Path]:
    """``(branch file, provisioned folder)`` of a branch with [ha] and a
    second broker over TLS, as `nidaa provision --tls` makes them."""
    from appliance.cli.env import Environment
    from appliance.cli.main import run

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'url = "mqtt://127.0.0.1:1883"',
        f'url = "mqtts://10.0.0.10:8883"\nfallback_urls = ["{STANDBY_SECOND}"]',
    )
    text += ha_section(STANDBY_ENDPOINTS, ca_file=f"{etc}/ca.crt", cert_file=f"{etc}/client.crt",
                       key_file=f"{etc}/client.key")  # fmt: skip
    config = tmp / "branch.toml"
    config.write_text(text, encoding="utf-8")
    out = tmp / "out"
    quiet = Environment(stdout=io.StringIO(), stderr=io.StringIO())
    assert run(["provision", "--config", str(config), "--out", str(out), "--tls",
                "--conf-dir", "/etc/mosquitto/nidaa"], quiet) == 0  # fmt: skip
    return config, out
