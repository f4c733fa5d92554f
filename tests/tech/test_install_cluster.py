"""`nidaa install --role etcd` / `--role broker` and a candidate's etcd client
certificate, into images with Debian's etcd-server and mosquitto installed:
what lands where, with which mode and owner; a second run changes nothing;
bad input changes nothing.  (Started as deployed: test_install_standby_e2e.)"""

from __future__ import annotations

import io
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.errors import NidaaError
from appliance.tech.install import InstallOptions, install, uninstall
from appliance.tech.system import RecordingSystem
from tests.support import LinkedVenvImage, tree
from tests.support.etcd import (
    STANDBY_ENDPOINTS,
    STANDBY_SECOND,
    packaged_image,
    provision_standby_branch,
)

ENDPOINTS, SECOND = STANDBY_ENDPOINTS, STANDBY_SECOND
ETC = "/etc/nidaa/etcd"


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """``(branch file, provisioned folder)`` of a branch with [ha] and a second
    broker over TLS, as `nidaa provision` makes them (once for the module)."""
    yield provision_standby_branch(tmp_path_factory.mktemp("provision"), ETC)


def opts(root: Path, role: str, prov: tuple[Path, Path], **kw: object) -> InstallOptions:
    return InstallOptions(role=role, config=prov[0], root=root, provisioned=prov[1], **kw)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_etcd_member_lands_where_debians_etcd_reads_it(
    tmp_path: Path, provisioned: tuple[Path, Path]
) -> None:
    image = packaged_image(tmp_path)
    package_default = (tmp_path / "etc/default/etcd").read_bytes()
    outcome = install(opts(tmp_path, "etcd", provisioned, unit="etcd-2"), image)
    assert not outcome.unchanged
    default = tmp_path / "etc/default/etcd"
    assert default.read_bytes() == (provisioned[1] / "etcd/etcd-2.env").read_bytes()
    assert mode(default) == 0o644 and image.owner(default) == ("root", "root")
    assert (tmp_path / "etc/default/etcd.before-nidaa").read_bytes() == package_default
    etc = tmp_path / "etc/nidaa/etcd"
    assert sorted(p.name for p in etc.iterdir()) == ["ca.crt", "etcd-2.crt", "etcd-2.key"]
    assert mode(etc / "etcd-2.key") == 0o640 and image.owner(etc / "etcd-2.key") == ("root", "etcd")
    assert mode(etc / "etcd-2.crt") == 0o644 and mode(etc) == 0o755
    assert mode(tmp_path / "etc/nidaa") == 0o751  # etcd's user passes through, lists nothing
    data = tmp_path / "var/lib/etcd/nidaa"
    assert mode(data) == 0o700 and image.owner(data) == ("etcd", "etcd")
    link = tmp_path / "etc/systemd/system/multi-user.target.wants/etcd.service"
    assert str(link.readlink()) == "/lib/systemd/system/etcd.service"  # the package's unit
    # Every path etcd is told of exists in the image.
    env = dict(ln.split("=", 1) for ln in default.read_text().splitlines() if ln[:1] != "#")
    for key in ("ETCD_CERT_FILE", "ETCD_KEY_FILE", "ETCD_TRUSTED_CA_FILE", "ETCD_DATA_DIR"):
        assert (tmp_path / env[key].lstrip("/")).exists(), key
    before = tree(tmp_path)
    assert install(opts(tmp_path, "etcd", provisioned, unit="etcd-2"), image).unchanged
    assert tree(tmp_path) == before
    # Uninstall gives the package its own settings back; the data stays.
    uninstall(tmp_path, image)
    assert default.read_bytes() == package_default and data.is_dir()
    assert not link.exists()


def test_bad_input_for_an_etcd_member_changes_nothing(
    tmp_path: Path, provisioned: tuple[Path, Path]
) -> None:
    image = packaged_image(tmp_path / "pi")
    before = tree(tmp_path / "pi")
    cases = {
        "no etcd unit 'etcd-9'": opts(tmp_path / "pi", "etcd", provisioned, unit="etcd-9"),
        "say which one": opts(tmp_path / "pi", "etcd", provisioned),
        "needs --from DIR": InstallOptions("etcd", provisioned[0], tmp_path / "pi", unit="etcd-1"),
    }
    for expected, bad in cases.items():
        with pytest.raises(NidaaError, match=expected):
            install(bad, image)
    # A folder provisioned for another branch file: refused, named.
    other = tmp_path / "other.toml"
    other.write_text(provisioned[0].read_text().replace("10.0.0.12:2379", "10.0.0.13:2379"))
    with pytest.raises(NidaaError, match="run nidaa provision again"):
        install(InstallOptions("etcd", other, tmp_path / "pi", unit="etcd-3",
                               provisioned=provisioned[1]), image)  # fmt: skip
    # etcd-server not installed in this image.
    with pytest.raises(NidaaError, match="apt-get install etcd-server"):
        install(opts(tmp_path / "bare", "etcd", provisioned, unit="etcd-1"), LinkedVenvImage(
            tmp_path / "bare"))  # fmt: skip
    assert tree(tmp_path / "pi") == before and not (tmp_path / "bare").exists()


def test_the_second_broker_has_the_same_accounts_and_its_own_certificate(
    tmp_path: Path, provisioned: tuple[Path, Path]
) -> None:
    out = provisioned[1]
    image = packaged_image(tmp_path)
    install(opts(tmp_path, "broker", provisioned, unit="broker-2"), image)
    folder = tmp_path / "etc/mosquitto/nidaa"
    assert sorted(p.name for p in folder.iterdir()) == [
        "ca.crt", "dynamic-security.json", "nidaa.conf", "server.crt", "server.key"
    ]  # fmt: skip
    assert (folder / "dynamic-security.json").read_bytes() == (
        out / "dynamic-security.json"
    ).read_bytes()  # the first broker's accounts, byte for byte
    assert (folder / "server.key").read_bytes() == (out / "broker-2/server.key").read_bytes()
    for secret in ("server.key", "dynamic-security.json"):
        assert mode(folder / secret) == 0o640 and image.owner(folder / secret) == ("root", "mosquitto")
    conf = (folder / "nidaa.conf").read_text()
    assert "listener 8883\n" in conf and "certfile /etc/mosquitto/nidaa/server.crt" in conf
    link = tmp_path / "etc/mosquitto/conf.d/nidaa.conf"
    assert str(link.readlink()) == "/etc/mosquitto/nidaa/nidaa.conf"
    assert (tmp_path / "etc/systemd/system/mosquitto.service.d/nidaa.conf").is_file()
    assert image.is_enabled("mosquitto.service")
    # Its certificate names its own address and is signed by the branch CA
    # every unit's credential trusts; the first broker's does not name it.
    def names(crt: Path) -> str:
        return subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                               str(crt)], capture_output=True, text=True, check=True).stdout  # fmt: skip

    assert "IP Address:10.0.0.11" in names(folder / "server.crt")
    assert "10.0.0.11" not in names(out / "server.crt")
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(out / "ca.crt"),
                             str(folder / "server.crt")], capture_output=True, text=True)  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert install(opts(tmp_path, "broker", provisioned, unit="broker-2"), image).unchanged
    with pytest.raises(NidaaError, match="broker units: broker-1, broker-2"):
        install(opts(tmp_path, "broker", provisioned, unit="broker-3"), image)


def test_a_candidate_gets_the_etcd_client_certificate(
    tmp_path: Path, provisioned: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install_cmd, "host_system", LinkedVenvImage)
    buf = io.StringIO()
    argv = ["install", "--role", "master", "--unit", "master-b", "--config", str(provisioned[0]),
            "--root", str(tmp_path), "--from", str(provisioned[1])]  # fmt: skip
    assert run(argv, Environment(stdout=buf, stderr=io.StringIO())) == 0, buf.getvalue()
    image = LinkedVenvImage(tmp_path)
    etc = tmp_path / "etc/nidaa/etcd"
    assert sorted(p.name for p in etc.iterdir()) == ["ca.crt", "client.crt", "client.key"]
    assert mode(etc / "client.key") == 0o640 and image.owner(etc / "client.key") == ("root", "nidaa")
    # --from DIR brings the unit's MQTT credential too.
    assert (tmp_path / "etc/nidaa/credentials/master-b.toml").is_file()
    assert 'NIDAA_ARGS="--unit master-b"' in (tmp_path / "etc/nidaa/nidaa-master.env").read_text()


def test_on_a_running_pi_etcd_is_restarted_without_waiting_only_when_changed(
    tmp_path: Path, provisioned: tuple[Path, Path]
) -> None:
    system = RecordingSystem(users={"etcd": set()}, groups={"root", "etcd"})
    install(opts(tmp_path, "etcd", provisioned, unit="etcd-1"), system)
    assert system.changes[-2:] == ["systemctl enable etcd.service",
                                   "systemctl restart --no-block etcd.service"]  # fmt: skip
    done = len(system.changes)
    assert install(opts(tmp_path, "etcd", provisioned, unit="etcd-1"), system).unchanged
    assert len(system.changes) == done
