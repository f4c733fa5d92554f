"""`nidaa install` / `uninstall` into a temporary root with a recording system."""

from __future__ import annotations

import getpass
import io
import os
import stat
from pathlib import Path

import pytest

from appliance.cli import install_cmd, selftest_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.config.branch import load_config
from appliance.errors import ConfigError, NidaaError
from appliance.tech import libraries
from appliance.tech.install import InstallOptions, install, installed_units, uninstall
from appliance.tech.provision import ProvisionOptions, provision
from appliance.tech.system import HostSystem, RecordingSystem
from tests.support import EXAMPLE_CONFIG, LinkedVenvImage, tree


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
    assert stat.S_IMODE((tmp_path / "etc/nidaa").stat().st_mode) == 0o751  # passable, not listable
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
    assert "no counter unit 'w9'" in message and "counter-w1" in message
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
    argv = ["install", "--role", "counter", "--unit", "counter-w2", "--config", str(EXAMPLE_CONFIG),
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
    creds = prov / "credentials"
    install(opts(root, "master", credentials=creds), system)
    # The SMS gateway on the same Pi keeps the master's credential beside its own.
    install(opts(root, "sms-gateway", credentials=creds), system)
    for unit in ("master", "sms1"):
        secret = root / f"etc/nidaa/credentials/{unit}.toml"
        assert secret.read_bytes() == (creds / f"{unit}.toml").read_bytes()
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert system.owners[secret] == ("nidaa", "nidaa")
    assert system.owners[root / "etc/nidaa/credentials"] == ("root", "nidaa")
    assert install(opts(root, "master", credentials=creds), system).unchanged


def test_the_service_knows_its_unit(tmp_path: Path) -> None:
    system = RecordingSystem()
    install(opts(tmp_path, "counter", unit="counter-w2"), system)
    env = (tmp_path / "etc/nidaa/nidaa-counter.env").read_text()
    assert 'NIDAA_ARGS="--unit counter-w2"' in env
    # Commands run on that Pi know it too: `nidaa test buttons` needs no --unit.
    branch = tmp_path / "etc/nidaa/branch.toml"
    assert installed_units(branch) == {"counter": "counter-w2"}
    assert selftest_cmd._this_unit(str(branch), "buttons") == "counter-w2"
    assert selftest_cmd._this_unit(str(branch), "printer") is None
    message = refused(tmp_path / "x", opts(tmp_path / "x", "counter", unit="w2"), RecordingSystem())
    assert "counter-w1, counter-w2" in message
    link = tmp_path / "usr/local/bin/nidaa"
    assert str(link.readlink()) == "/opt/nidaa/venv/bin/nidaa"


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


def test_a_configured_library_that_does_not_import_is_refused_first(tmp_path: Path) -> None:
    old = tmp_path.parent / f"{tmp_path.name}-rpigpio.toml"
    # RPi.GPIO (old boards) is not installed here; lgpio and libusb are (make setup).
    old.write_text(
        EXAMPLE_CONFIG.read_text().replace('pin_factory = "lgpio"', 'pin_factory = "rpigpio"')
    )
    message = refused(tmp_path, InstallOptions("kiosk", old, tmp_path), RecordingSystem())
    assert "kiosk k1: pin factory 'rpigpio' needs python3-rpi.gpio" in message
    assert libraries.missing(libraries.needed(load_config(EXAMPLE_CONFIG), "kiosk", "k1")) == []


def test_install_into_an_image_uses_its_own_users_never_the_hosts(tmp_path: Path) -> None:
    """--root on a prepared image: the user goes into the image's etc/passwd;
    a second run says unchanged; uninstall takes it out again."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n"
    )
    (etc / "group").write_text("root:x:0:\ngpio:x:997:pi\ndialout:x:20:pi\npi:x:1000:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "shadow").chmod(0o640)
    out = io.StringIO()
    host_passwd, host_group = Path("/etc/passwd").read_bytes(), Path("/etc/group").read_bytes()
    argv = ["install", "--role", "kiosk", "--config", str(EXAMPLE_CONFIG), "--root", str(tmp_path)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(install_cmd, "host_system", LinkedVenvImage)
        assert run(argv, Environment(stdout=out, stderr=io.StringIO())) == 0
        again = io.StringIO()
        assert run(argv, Environment(stdout=again, stderr=io.StringIO())) == 0
    assert again.getvalue().strip() == "unchanged"
    passwd = (etc / "passwd").read_text().splitlines()
    nidaa = next(line.split(":") for line in passwd if line.startswith("nidaa:"))
    assert nidaa[6] == "/usr/sbin/nologin" and nidaa[5] == "/var/lib/nidaa"
    assert "nidaa:!:" in (etc / "shadow").read_text()
    groups = {
        line.split(":")[0]: line.split(":")[3] for line in (etc / "group").read_text().splitlines()
    }
    assert groups["gpio"] == "pi,nidaa" and groups["dialout"] == "pi,nidaa" and "lp" in groups
    state = tmp_path / "var/lib/nidaa"
    assert state.stat().st_uid == int(nidaa[2])
    assert (
        tmp_path / "etc/systemd/system/multi-user.target.wants/nidaa-kiosk.service"
    ).is_symlink()
    assert Path("/etc/passwd").read_bytes() == host_passwd  # the host's users untouched
    assert Path("/etc/group").read_bytes() == host_group
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(install_cmd, "host_system", LinkedVenvImage)
        assert run(["uninstall", "--root", str(tmp_path)], Environment(stdout=io.StringIO())) == 0
    assert "nidaa:" not in (etc / "passwd").read_text()
    assert "nidaa" not in (etc / "group").read_text() and "lp:" not in (etc / "group").read_text()


def test_a_run_stopped_midway_is_completed_by_the_next(tmp_path: Path) -> None:
    """The venv build fails (a full disk, a lost network) after the user and
    files were made: the next run does what is left and ends like a clean one."""

    class FailingOnce(LinkedVenvImage):
        failed = False

        def make_venv(self, venv: Path, source: Path) -> None:
            if not FailingOnce.failed:
                FailingOnce.failed = True
                raise NidaaError("pip install failed: No space left on device")
            super().make_venv(venv, source)

    broken, clean = tmp_path / "broken", tmp_path / "clean"
    for root in (broken, clean):
        (root / "etc").mkdir(parents=True)
    with pytest.raises(NidaaError, match="No space left"):
        install(opts(broken), FailingOnce(broken))
    assert not (broken / "etc/systemd/system/nidaa-kiosk.service").exists()  # not enabled half-made
    install(opts(broken), FailingOnce(broken))
    install(opts(clean), LinkedVenvImage(clean))
    assert tree(broken) == tree(clean)
    assert install(opts(broken), LinkedVenvImage(broken)).unchanged


def test_a_standby_candidate_installs_as_its_own_master_unit(tmp_path: Path) -> None:
    ha = '\n[ha]\nendpoints = ["http://10.0.0.1:2379"]\ncandidates = ["master", "master-b"]\n'
    config = tmp_path / "branch.toml"
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8") + ha, encoding="utf-8")
    root = tmp_path / "root"
    options = InstallOptions(role="master", config=config, root=root, unit="master-b")
    install(options, RecordingSystem())
    env = (root / "etc/nidaa/nidaa-master.env").read_text()
    assert 'NIDAA_ARGS="--unit master-b"' in env
    assert installed_units(root / "etc/nidaa/branch.toml") == {"master": "master-b"}


def test_the_central_service_installs_with_its_own_file_and_credential(tmp_path: Path) -> None:
    central = tmp_path / "central.toml"
    central.write_text('[central]\ndatabase = "dbname=nidaa"\nconsumer = "central-2"\n'
                       '[[branches]]\nid = "giza-dokki"\n')  # fmt: skip
    creds = tmp_path / "creds"
    creds.mkdir()
    root = tmp_path / "root"
    system = RecordingSystem()
    missing = InstallOptions(role="central", config=central, root=root, credentials=creds)
    with pytest.raises(NidaaError, match=r"central\.toml"):
        install(missing, system)
    assert not root.exists()
    (creds / "central.toml").write_text('username = "central"\npassword = "x"\n')
    outcome = install(missing, system)
    assert system.enabled == {"nidaa-central.service"}
    assert (root / "etc/nidaa/central.toml").read_bytes() == central.read_bytes()
    assert not (root / "etc/nidaa/branch.toml").exists()
    cred = root / "etc/nidaa/credentials/central.toml"
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    unit = (root / "etc/systemd/system/nidaa-central.service").read_text()
    assert "nidaa central --config /etc/nidaa/central.toml" in unit
    assert any("PostgreSQL" in note for note in outcome.notes)
    # The dashboard's session key: made once, private, kept by a reinstall.
    key = root / "etc/nidaa/dashboard.secret"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) >= 32
    assert any("session_secret_file" in note for note in outcome.notes)
    before = key.read_bytes()
    assert install(missing, system).unchanged
    assert key.read_bytes() == before
