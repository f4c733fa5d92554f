"""The shipped unit files pass `systemd-analyze verify` as installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.tech.units import ROLE_GROUPS, UNITS, render_unit, units_dir

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze not installed and could not be (Debian package `systemd`; "
    "`make setup` installs it)",
)


def _prefix_with_nidaa(tmp_path: Path) -> Path:
    """An install prefix whose venv/bin/nidaa is this test run's executable,
    because verify checks that ExecStart names an executable file."""
    prefix = tmp_path / "opt-nidaa"
    (prefix / "venv" / "bin").mkdir(parents=True)
    nidaa = Path(sys.executable).parent / "nidaa"
    assert nidaa.exists(), "the package is not installed in this environment"
    os.symlink(nidaa, prefix / "venv" / "bin" / "nidaa")
    return prefix


@needs_analyze
@pytest.mark.parametrize("role", sorted(UNITS))
def test_unit_verifies_without_any_warning(role: str, tmp_path: Path) -> None:
    prefix = _prefix_with_nidaa(tmp_path)
    unit = tmp_path / UNITS[role]
    unit.write_text(render_unit((units_dir() / UNITS[role]).read_text(), str(prefix)))
    assert str(prefix) in unit.read_text()
    done = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys are only warnings (exit 0): any output is a defect.
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above is able to fail: a misspelt key is reported."""
    prefix = _prefix_with_nidaa(tmp_path)
    unit = tmp_path / UNITS["kiosk"]
    text = render_unit((units_dir() / UNITS["kiosk"]).read_text(), str(prefix))
    unit.write_text(text.replace("WatchdogSec=", "WatchDogSecs="))
    done = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert "WatchDogSecs" in done.stderr


def _settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.parametrize("role", sorted(UNITS))
def test_unit_runs_as_nidaa_watched_and_hardened(role: str) -> None:
    s = _settings((units_dir() / UNITS[role]).read_text())
    assert s["Type"] == ["notify"]
    assert s["Restart"] == ["on-failure"]
    assert int(s["WatchdogSec"][0]) > 0
    assert s["User"] == ["nidaa"]
    for key in ("ProtectSystem", "NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert s[key] in (["strict"], ["yes"]), key
    assert s["StateDirectory"] == ["nidaa"] and s["ConfigurationDirectory"] == ["nidaa"]
    groups = set(s.get("SupplementaryGroups", [""])[0].split())
    assert groups == set(ROLE_GROUPS[role])
    # The daemon's subcommand is the unit engineer's (`nidaa kiosk`, ...); the
    # venv path and the installed configuration are install's contract.
    exec_start = s["ExecStart"][0].split()
    assert exec_start[0] == "/opt/nidaa/venv/bin/nidaa"
    assert exec_start[1] == role.split("-")[0] or exec_start[1] == role
    config = "central.toml" if role == "central" else "branch.toml"  # the centre is no branch
    assert f"--config /etc/nidaa/{config}" in s["ExecStart"][0]
