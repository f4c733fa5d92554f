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


def _read_table(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


@dataclass
class ImageSystem:
    """A file system image at ``root`` (``nidaa install --root DIR``).

    Users and groups are written into the image's own ``etc/passwd``,
    ``etc/group`` (and ``shadow``/``gshadow`` when the image has them),
    never the host's; ``systemctl enable`` is the symlink systemd would make.
    Works on an empty folder as well as on a mounted Raspberry Pi OS image.
    """

    root: Path

    # -- the image's account tables ------------------------------------------
    def _table(self, name: str) -> Path:
        return self.root / "etc" / name

    def _write(self, name: str, rows: list[list[str]], mode: int) -> None:
        from .files import write_atomic

        path = self._table(name)
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        write_atomic(path, "".join(":".join(r) + "\n" for r in rows), mode)

    def _free_id(self, *tables: str) -> int:
        used = {int(r[2]) for t in tables for r in _read_table(self._table(t)) if len(r) > 2
                and r[2].isdigit()}  # fmt: skip
        for candidate in range(999, 99, -1):  # system ids, from the top like useradd -r
            if candidate not in used:
                return candidate
        raise NidaaError(f"no free system id left in {self.root}/etc")

    def _ensure_root_entries(self) -> None:
        if not self._table("passwd").exists():
            self._write("passwd", [["root", "x", "0", "0", "root", "/root", "/bin/sh"]], 0o644)
        if not self._table("group").exists():
            self._write("group", [["root", "x", "0", ""]], 0o644)

    def is_root(self) -> bool:
        return os.geteuid() == 0

    def user_exists(self, name: str) -> bool:
        return any(r[0] == name for r in _read_table(self._table("passwd")))

    def group_exists(self, name: str) -> bool:
        return any(r[0] == name for r in _read_table(self._table("group")))

    def user_groups(self, name: str) -> set[str]:
        return {r[0] for r in _read_table(self._table("group"))
                if len(r) > 3 and name in r[3].split(",")}  # fmt: skip

    def _add_group_row(self, name: str, gid: int) -> None:
        self._ensure_root_entries()
        self._write("group", [*_read_table(self._table("group")), [name, "x", str(gid), ""]], 0o644)
        if self._table("gshadow").exists():
            rows = [*_read_table(self._table("gshadow")), [name, "!", "", ""]]
            self._write("gshadow", rows, 0o640)

    def add_group(self, name: str) -> None:
        self._add_group_row(name, self._free_id("group"))

    def add_user(self, name: str, home: Path) -> None:
        self._ensure_root_entries()
        uid = self._free_id("passwd", "group")
        if not self.group_exists(name):
            self._add_group_row(name, uid)
        gid = next(r[2] for r in _read_table(self._table("group")) if r[0] == name)
        row = [name, "x", str(uid), gid, "", str(home), "/usr/sbin/nologin"]
        self._write("passwd", [*_read_table(self._table("passwd")), row], 0o644)
        if self._table("shadow").exists():
            rows = [*_read_table(self._table("shadow")), [name, "!", "", "", "", "", "", "", ""]]
            self._write("shadow", rows, 0o640)

    def add_user_to_group(self, name: str, group: str) -> None:
        rows = _read_table(self._table("group"))
        for r in rows:
            if r[0] == group:
                members = [m for m in (r[3].split(",") if len(r) > 3 else []) if m]
                r[3:] = [",".join([*members, name])]
        self._write("group", rows, 0o644)

    def _drop(self, table: str, name: str, mode: int) -> None:
        if self._table(table).exists():
            self._write(table, [r for r in _read_table(self._table(table)) if r[0] != name], mode)

    def remove_user(self, name: str) -> None:
        self._drop("passwd", name, 0o644)
        self._drop("shadow", name, 0o640)
        rows = _read_table(self._table("group"))
        for r in rows:
            if len(r) > 3:
                r[3] = ",".join(m for m in r[3].split(",") if m and m != name)
        self._write("group", rows, 0o644)
        self.remove_group(name)

    def remove_group(self, name: str) -> None:
        self._drop("group", name, 0o644)
        self._drop("gshadow", name, 0o640)

    def _id(self, table: str, name: str) -> int:
        for r in _read_table(self._table(table)):
            if r[0] == name:
                return int(r[2])
        raise NidaaError(f"{name!r} is not in {self._table(table)}")

    def owner(self, path: Path) -> tuple[str, str]:
        st = path.stat()
        users = {r[2]: r[0] for r in _read_table(self._table("passwd")) if len(r) > 2}
        groups = {r[2]: r[0] for r in _read_table(self._table("group")) if len(r) > 2}
        return users.get(str(st.st_uid), str(st.st_uid)), groups.get(str(st.st_gid), str(st.st_gid))

    def chown(self, path: Path, user: str, group: str) -> None:
        os.chown(path, self._id("passwd", user), self._id("group", group))

    def make_venv(self, venv: Path, source: Path) -> None:
        HostSystem().make_venv(venv, source)

    # -- systemd, offline ----------------------------------------------------
    def _wants(self, unit: str) -> Path:
        return self.root / "etc/systemd/system/multi-user.target.wants" / unit

    def is_enabled(self, unit: str) -> bool:
        return self._wants(unit).is_symlink()

    def systemctl(self, *args: str) -> None:
        unit = args[-1]
        if args[0] == "enable":
            link = self._wants(unit)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            # A unit of ours, or one a package ships (etcd, mosquitto).
            where = next((d for d in ("etc/systemd/system", "lib/systemd/system",
                                      "usr/lib/systemd/system")
                          if (self.root / d / unit).is_file()), "etc/systemd/system")  # fmt: skip
            link.symlink_to(f"/{where}/{unit}")
        elif args[0] == "disable":
            self._wants(unit).unlink(missing_ok=True)
        # daemon-reload: nothing runs in an image.
