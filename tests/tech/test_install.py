"""`nidaa install` / `uninstall` into a temporary root with a recording system."""

from __future__ import annotations

import getpass
import io
import os
import stat
from pathlib import Path

import pytest

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.config import load_config
from appliance.errors import ConfigError, NidaaError
from appliance.tech.install import InstallOptions, install, uninstall
from appliance.tech.provision import ProvisionOptions, provision
from appliance.tech.system import HostSystem, RecordingSystem
from tests.conftest import EXAMPLE_CONFIG


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under root with its mode and content: a snapshot of the machine."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            data = p.read_bytes() if p.is_file() else b""
            out[str(p.relative_to(root))] = (stat.S_IMODE(p.stat().st_mode), data)
    return out


def opts(root: Path, role: str = "kiosk", **kw: object) -> InstallOptions:
    return InstallOptions(role=role, config=EXAMPLE_CONFIG, root=root, **kw)  # type: ignore[arg-type]


def test_install_lays_out_the_role_and_enables_its_unit(tmp_path: Path) -> None:
    system = RecordingSystem()
    outcome = install(opts(tmp_path), system)
    assert not outcome.unchanged
    assert "useradd nidaa home=/var/lib/nidaa" in system.changes
    assert system.users["nidaa"] == {"gpio", "lp", "dialout"}
    assert "groupadd gpio" in system.changes  # missing on this machine: made, not skipped
    assert system.enabled == {"nidaa-kiosk.service"}
    assert system.changes[-2:] == [
        "systemctl daemon-reload",
        "systemctl enable nidaa-kiosk.service",
    ]
    branch = tmp_path / "etc/nidaa/branch.toml"
    assert branch.read_bytes() == EXAMPLE_CONFIG.read_bytes()
    assert stat.S_IMODE(branch.stat().st_mode) == 0o640
    assert system.owners[branch] == ("root", "nidaa")
    assert stat.S_IMODE((tmp_path / "etc/nidaa").stat().st_mode) == 0o750
    assert system.owners[tmp_path / "var/lib/nidaa"] == ("nidaa", "nidaa")
    unit = (tmp_path / "etc/systemd/system/nidaa-kiosk.service").read_text()
    assert "ExecStart=/opt/nidaa/venv/bin/nidaa kiosk" in unit
    assert list(system.venvs) == [tmp_path / "opt/nidaa/venv"]


def test_second_install_changes_nothing(tmp_path: Path) -> None:
    system = RecordingSystem()
    install(opts(tmp_path), system)
    before, changes = tree(tmp_path), len(system.changes)
    outcome = install(opts(tmp_path), system)
    assert outcome.unchanged
    assert len(system.changes) == changes
    assert tree(tmp_path) == before


def test_master_gets_the_mosquitto_dropin_and_a_prefix(tmp_path: Path) -> None:
    system = RecordingSystem()
    install(opts(tmp_path, "master", prefix="/srv/nidaa"), system)
    assert (tmp_path / "etc/systemd/system/mosquitto.service.d/nidaa.conf").is_file()
    unit = (tmp_path / "etc/systemd/system/nidaa-master.service").read_text()
    assert "ExecStart=/srv/nidaa/venv/bin/nidaa master" in unit and "/opt/nidaa" not in unit


def test_two_roles_then_uninstall_keeps_data_unless_purge(tmp_path: Path) -> None:
    system = RecordingSystem()
    install(opts(tmp_path, "master"), system)
    install(opts(tmp_path, "display"), system)
    assert system.enabled == {"nidaa-master.service", "nidaa-display.service"}
    (tmp_path / "var/lib/nidaa/master.db").write_bytes(b"tickets")
    outcome = uninstall(tmp_path, system)
    assert not outcome.unchanged
    assert system.enabled == set() and "nidaa" not in system.users
    assert "render" not in system.groups  # created by install, removed again
    assert "video" in system.groups  # the machine's own group stays
    left = {p for p in tree(tmp_path) if "nidaa" in p}
    assert left == {"var/lib/nidaa", "var/lib/nidaa/master.db"}
    assert uninstall(tmp_path, system).unchanged
    assert uninstall(tmp_path, system, purge=True).changes == [
        f"removed {tmp_path / 'var/lib/nidaa'}"
    ]
    assert uninstall(tmp_path, system, purge=True).unchanged


def refused(tmp_path: Path, options: InstallOptions, system: RecordingSystem) -> str:
    with pytest.raises(NidaaError) as info:
        install(options, system)
    assert tree(tmp_path) == {}, "bad input must change nothing"
    assert system.changes == []
    return str(info.value)


def test_without_root_nothing_changes(tmp_path: Path) -> None:
    message = refused(tmp_path, opts(tmp_path), RecordingSystem(root_user=False))
    assert "must run as root" in message


def test_unknown_role_or_unit_nothing_changes(tmp_path: Path) -> None:
    assert "unknown role 'printer'" in refused(
        tmp_path, opts(tmp_path, "printer"), RecordingSystem()
    )
    message = refused(tmp_path, opts(tmp_path, "counter", unit="w9"), RecordingSystem())
    assert "no counter unit 'w9'" in message and "w1" in message
    message = refused(tmp_path, opts(tmp_path, "counter"), RecordingSystem())
    assert "--unit" in message


def test_invalid_config_nothing_changes(tmp_path: Path) -> None:
    bad = tmp_path.parent / f"{tmp_path.name}-bad.toml"
    bad.write_text(EXAMPLE_CONFIG.read_text().replace('id = "w2"', 'id = "W 2"'))
    message = refused(tmp_path, InstallOptions("kiosk", bad, tmp_path), RecordingSystem())
    assert "counters[1].id" in message
    with pytest.raises(ConfigError):
        install(InstallOptions("kiosk", bad, tmp_path), RecordingSystem())


def test_cli_reports_unchanged_and_maps_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = RecordingSystem()
    monkeypatch.setattr(install_cmd, "host_system", lambda root: system)
    argv = ["install", "--role", "counter", "--unit", "w3", "--config", str(EXAMPLE_CONFIG),
            "--root", str(tmp_path)]  # fmt: skip

    def nidaa(args: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(args, Environment(stdout=out, stderr=err))
        return code, out.getvalue(), err.getvalue()

    code, out, _ = nidaa(argv)
    assert code == 0 and "enabled nidaa-counter.service" in out
    assert nidaa(argv)[:2] == (0, "unchanged\n")
    system.root_user = False
    code, _, err = nidaa(["uninstall", "--root", str(tmp_path)])
    assert code == 1 and "must run as root" in err
    assert (tmp_path / "etc/nidaa/branch.toml").exists()


def test_credentials_from_provision(tmp_path: Path) -> None:
    prov = tmp_path / "prov"
    provision(load_config(EXAMPLE_CONFIG), ProvisionOptions(out=prov, tls=True))
    root = tmp_path / "root"
    system = RecordingSystem()
    outcome = install(opts(root, credentials=prov / "credentials"), system)
    secret = root / "etc/nidaa/mqtt.password"
    assert secret.read_bytes() == (prov / "credentials/k1.password").read_bytes()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert system.owners[secret] == ("nidaa", "nidaa")
    assert (root / "etc/nidaa/ca.crt").read_bytes() == (prov / "ca.crt").read_bytes()
    # The example file names no unit credential: the technician is told what to set.
    assert any('username = "k1"' in note for note in outcome.notes)
    assert install(opts(root, credentials=prov / "credentials"), system).unchanged


def test_missing_credential_nothing_changes(tmp_path: Path) -> None:
    empty = tmp_path.parent / f"{tmp_path.name}-creds"
    empty.mkdir()
    message = refused(tmp_path, opts(tmp_path, credentials=empty), RecordingSystem())
    assert "no credential for unit 'k1'" in message


def test_host_system_answers_questions_without_changing_anything(tmp_path: Path) -> None:
    host = HostSystem()
    assert host.is_root() == (os.geteuid() == 0)
    assert host.user_exists("root") and not host.user_exists("nidaa-no-such-user")
    assert host.group_exists("root") and not host.group_exists("nidaa-no-such-group")
    assert host.owner(tmp_path)[0] == getpass.getuser()
