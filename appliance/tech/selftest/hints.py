"""What to tell a technician about a device node they cannot use.

Most "it does not work" on a freshly installed Pi is a permission: the
serial port belongs to group ``dialout``, GPIO to ``gpio``, sound to
``audio``, USB printers to ``lp`` (with a udev rule).  These helpers look at
the node and the user running the test and say exactly that.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import SelfTest


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def access_problem(path: str | Path) -> str:
    """Empty when ``path`` can be read and written; otherwise why not, and
    which group to join."""
    path = Path(path)
    if not path.exists():
        return f"{path} does not exist"
    if os.access(path, os.R_OK | os.W_OK):
        return ""
    stat = path.stat()
    try:
        group = grp.getgrgid(stat.st_gid).gr_name
    except KeyError:
        group = str(stat.st_gid)
    return (
        f"user {_user()} may not use {path} (group {group}, mode {stat.st_mode & 0o777:o}): "
        f"run the test with sudo, or `sudo usermod -aG {group} {_user()}` and log in again"
    )


def stop_daemon(role: str) -> str:
    """The usual cause of a busy device: the unit's own daemon holds it."""
    return (
        f"the {role} daemon holds the device while it runs: "
        f"`sudo systemctl stop nidaa-{role}` for the test, `start` it afterwards"
    )


Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


def daemon_running(role: str, runner: Runner = subprocess.run) -> bool:
    """Whether systemd runs the role's daemon now (False where there is no systemd)."""
    try:
        done = runner(
            ["systemctl", "is-active", "--quiet", f"nidaa-{role}.service"],
            capture_output=True,
            timeout=3,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def warn_if_running(result: SelfTest, role: str) -> None:
    """Say up front that the daemon may hold the device, before a confusing failure."""
    if daemon_running(role):
        result.warn(f"nidaa-{role} is running and may hold the device: {stop_daemon(role)}")
