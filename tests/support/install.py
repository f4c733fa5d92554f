"""The documented install as the tests redo it (docs/install.md): a branch
file per fake root on simulated hardware, each installed unit started as
systemd would start it, and the daily commands run as typed on a Pi."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
import tomllib
from pathlib import Path

from . import EXAMPLE_CONFIG

KEEPALIVE = 5
WAIT = 90.0  # generous: a loaded machine; never a timing assertion


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


