"""`nidaa provision` with ``[ha]``: the etcd members' TLS and settings, used as
deployed — three real etcd members started from the generated files, and the
master's client reaching them only with the candidates' certificate."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config.branch import parse_config
from appliance.errors import NidaaError
from appliance.master.etcd import Etcd, EtcdUnavailable
from appliance.sim.harness.etcd import find_etcd
from appliance.sim.harness.procs import wait_until
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import EXAMPLE_CONFIG
from tests.support.etcd import two_free_ports


def env_of(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {k: v for k, v in pairs if not k.startswith("#")}


@pytest.fixture
def members(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    endpoints = [f"https://127.0.0.1:{two_free_ports()}" for _ in range(3)]
    etc = tmp_path / "out" / "etcd"
    ha = (
        f'\n[ha]\nendpoints = {endpoints!r}\ncandidates = ["master", "master-b"]\n'
        f'ca_file = "{etc}/ca.crt"\ncert_file = "{etc}/client.crt"\nkey_file = "{etc}/client.key"\n'
    ).replace("'", '"')
    cfg = parse_config(EXAMPLE_CONFIG.read_text(encoding="utf-8") + ha)
    result = provision(cfg, ProvisionOptions(out=tmp_path / "out", etcd_dir=etc))
    assert {p.name for p in result.written} >= {"ca.crt", "client.key", "etcd-1.env", "etcd-3.crt"}
    assert stat.S_IMODE((etc / "etcd-2.key").stat().st_mode) == 0o600
    procs = []
    try:
        for i in range(3):
            env = {**os.environ, **env_of(etc / f"etcd-{i + 1}.env")}
            env["ETCD_DATA_DIR"] = str(tmp_path / f"data-{i + 1}")
            log = (tmp_path / f"etcd-{i + 1}.log").open("wb")
            procs.append(subprocess.Popen([find_etcd()], env=env, stdout=log, stderr=log))
        yield etc, endpoints
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_members_started_from_the_provisioned_files_form_a_tls_cluster(
    members: tuple[Path, list[str]], tmp_path: Path
) -> None:
    etc, endpoints = members
    client = Etcd(endpoints, timeout_s=3.0, ca_file=str(etc / "ca.crt"),
                  cert_file=str(etc / "client.crt"), key_file=str(etc / "client.key"))  # fmt: skip

    def writes() -> bool:
        try:
            client.put(b"/nidaa/provision-test", b"ok")
            return True
        except NidaaError:
            return False

    assert wait_until(writes, 30, 0.2), [p.read_text()[-500:] for p in tmp_path.glob("*.log")]
    assert client.get(b"/nidaa/provision-test").value == b"ok"  # type: ignore[union-attr]
    assert all(m["ok"] for m in client.member_status())
    client.close()
    # Without the candidates' client certificate the members refuse the connection.
    stranger = Etcd(endpoints, timeout_s=1.0, ca_file=str(etc / "ca.crt"))
    with pytest.raises(EtcdUnavailable):
        stranger.put(b"/nidaa/provision-test", b"no")
    stranger.close()


def test_a_second_run_keeps_the_certificates(tmp_path: Path) -> None:
    ha = '\n[ha]\nendpoints = ["https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"]\ncandidates = ["master", "master-b"]\nca_file = "/etc/nidaa/etcd/ca.crt"\n'
    cfg = parse_config(EXAMPLE_CONFIG.read_text(encoding="utf-8") + ha)
    provision(cfg, ProvisionOptions(out=tmp_path))
    ca = (tmp_path / "etcd" / "ca.crt").read_bytes()
    again = provision(cfg, ProvisionOptions(out=tmp_path))
    assert (tmp_path / "etcd" / "ca.crt").read_bytes() == ca
    assert tmp_path / "etcd" / "etcd-1.crt" in again.unchanged
    env = env_of(tmp_path / "etcd" / "etcd-2.env")
    assert env["ETCD_LISTEN_PEER_URLS"] == "https://10.0.0.2:2380"
    assert (
        env["ETCD_INITIAL_CLUSTER"].count("https://") == 3
        and env["ETCD_CLIENT_CERT_AUTH"] == "true"
    )
