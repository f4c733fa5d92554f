"""`nidaa provision` with ``[ha]``: the etcd members' TLS and settings.  Used
as deployed — installed by `nidaa install --role etcd`, three real members
started from them, the masters reaching them only with the candidates'
certificate — in test_install_standby_e2e."""

from __future__ import annotations

from pathlib import Path

from appliance.config.branch import parse_config
from appliance.tech.install_cluster import env_values
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import EXAMPLE_CONFIG


def test_a_second_run_keeps_the_certificates(tmp_path: Path) -> None:
    ha = '\n[ha]\nendpoints = ["https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"]\ncandidates = ["master", "master-b"]\nca_file = "/etc/nidaa/etcd/ca.crt"\n'
    cfg = parse_config(EXAMPLE_CONFIG.read_text(encoding="utf-8") + ha)
    provision(cfg, ProvisionOptions(out=tmp_path))
    ca = (tmp_path / "etcd" / "ca.crt").read_bytes()
    again = provision(cfg, ProvisionOptions(out=tmp_path))
    assert (tmp_path / "etcd" / "ca.crt").read_bytes() == ca
    assert tmp_path / "etcd" / "etcd-1.crt" in again.unchanged
    env = env_values((tmp_path / "etcd" / "etcd-2.env").read_text())
    assert env["ETCD_LISTEN_PEER_URLS"] == "https://10.0.0.2:2380"
    assert (
        env["ETCD_INITIAL_CLUSTER"].count("https://") == 3
        and env["ETCD_CLIENT_CERT_AUTH"] == "true"
    )
