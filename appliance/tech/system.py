"""Everything `nidaa install` does to the machine beyond writing files.

One small interface, :class:`System`: users and groups, ownership, the venv,
and ``systemctl``.  :class:`HostSystem` runs the real commands;
:class:`RecordingSystem` keeps the same state in memory and records every
change, so tests run an install into a temporary root without touching the
machine and assert on exactly what would have been done.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import NidaaError


class System(Protocol):
    def is_root(self) -> bool: ...
    def user_exists(self, name: str) -> bool: ...
    def group_exists(self, name: str) -> bool: ...
    def user_groups(self, name: str) -> set[str]: ...
    def add_group(self, name: str) -> None: ...
    def add_user(self, name: str, home: Path) -> None: ...
    def add_user_to_group(self, name: str, group: str) -> None: ...
    def remove_user(self, name: str) -> None: ...
    def remove_group(self, name: str) -> None: ...
    def owner(self, path: Path) -> tuple[str, str]: ...
    def chown(self, path: Path, user: str, group: str) -> None: ...
    def make_venv(self, venv: Path, source: Path) -> None: ...
    def is_enabled(self, unit: str) -> bool: ...
    def systemctl(self, *args: str) -> None: ...


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise NidaaError(f"{argv[0]} is not installed") from None
    if done.returncode != 0:
        raise NidaaError(f"{' '.join(argv)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


@dataclass
class HostSystem:
    """The real machine (or an image mounted at ``root``)."""

    root: Path = Path("/")

    def _in_root(self) -> list[str]:
        return [] if self.root == Path("/") else ["--root", str(self.root)]

    def is_root(self) -> bool:
        return os.geteuid() == 0

    def user_exists(self, name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    def group_exists(self, name: str) -> bool:
        try:
            grp.getgrnam(name)
        except KeyError:
            return False
        return True

    def user_groups(self, name: str) -> set[str]:
        return {g.gr_name for g in grp.getgrall() if name in g.gr_mem}

    def add_group(self, name: str) -> None:
        _run(["groupadd", *self._in_root(), "--system", name])

    def add_user(self, name: str, home: Path) -> None:
        _run(
            ["useradd", *self._in_root(), "--system", "--user-group", "--no-create-home",
             "--home-dir", str(home), "--shell", "/usr/sbin/nologin", name]
        )  # fmt: skip

    def add_user_to_group(self, name: str, group: str) -> None:
        _run(["usermod", *self._in_root(), "--append", "--groups", group, name])

    def remove_user(self, name: str) -> None:
        _run(["userdel", *self._in_root(), name])

    def remove_group(self, name: str) -> None:
        _run(["groupdel", *self._in_root(), name])

    def owner(self, path: Path) -> tuple[str, str]:
        st = path.stat()
        try:
            return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
        except KeyError:
            return str(st.st_uid), str(st.st_gid)

    def chown(self, path: Path, user: str, group: str) -> None:
        os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)

    def make_venv(self, venv: Path, source: Path) -> None:
        _run([sys.executable, "-m", "venv", "--clear", str(venv)])
        _run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)])

    def is_enabled(self, unit: str) -> bool:
        argv = ["systemctl", *self._in_root(), "is-enabled", "--quiet", unit]
        return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0

    def systemctl(self, *args: str) -> None:
        _run(["systemctl", *self._in_root(), *args])


@dataclass
class RecordingSystem:
    """An in-memory machine for tests: records every change it is asked for."""

    root_user: bool = True
    users: dict[str, set[str]] = field(default_factory=dict)  #: user → groups
    groups: set[str] = field(default_factory=lambda: {"root", "audio", "video", "lp", "dialout"})
    owners: dict[Path, tuple[str, str]] = field(default_factory=dict)
    enabled: set[str] = field(default_factory=set)
    venvs: dict[Path, Path] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)

    def is_root(self) -> bool:
        return self.root_user

    def user_exists(self, name: str) -> bool:
        return name in self.users

    def group_exists(self, name: str) -> bool:
        return name in self.groups

    def user_groups(self, name: str) -> set[str]:
        return set(self.users.get(name, set()))

    def add_group(self, name: str) -> None:
        self.changes.append(f"groupadd {name}")
        self.groups.add(name)

    def add_user(self, name: str, home: Path) -> None:
        self.changes.append(f"useradd {name} home={home}")
        self.users[name] = set()
        self.groups.add(name)

    def add_user_to_group(self, name: str, group: str) -> None:
        self.changes.append(f"usermod {name} +{group}")
        self.users[name].add(group)

    def remove_user(self, name: str) -> None:
        self.changes.append(f"userdel {name}")
        del self.users[name]
        self.groups.discard(name)

    def remove_group(self, name: str) -> None:
        self.changes.append(f"groupdel {name}")
        self.groups.discard(name)

    def owner(self, path: Path) -> tuple[str, str]:
        return self.owners.get(path, ("root", "root"))

    def chown(self, path: Path, user: str, group: str) -> None:
        self.changes.append(f"chown {user}:{group} {path}")
        self.owners[path] = (user, group)

    def make_venv(self, venv: Path, source: Path) -> None:
        self.changes.append(f"venv {venv} from {source}")
        self.venvs[venv] = source

    def is_enabled(self, unit: str) -> bool:
        return unit in self.enabled

    def systemctl(self, *args: str) -> None:
        self.changes.append("systemctl " + " ".join(args))
        if args[0] == "enable":
            self.enabled.add(args[-1])
        elif args[0] == "disable":
            self.enabled.discard(args[-1])
