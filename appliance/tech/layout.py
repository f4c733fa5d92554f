"""What `nidaa install` shares between its roles: options, the outcome, the
layout under ``--root`` and the manifest, and the steps "this directory, this
file, with this mode and owner" that look first and change only what differs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NidaaError
from .files import write_atomic
from .system import System
from .units import DEFAULT_PREFIX

USER = "nidaa"
ETC = Path("etc/nidaa")
#: /etc/nidaa: others may pass through (Debian's etcd user reaches
#: /etc/nidaa/etcd) but not list it; every file in it has its own mode.
ETC_MODE = 0o751
STATE = Path("var/lib/nidaa")
UNIT_DIR = Path("etc/systemd/system")


@dataclass
class InstallOptions:
    role: str
    config: Path
    root: Path = Path("/")
    prefix: str = DEFAULT_PREFIX
    unit: str | None = None  #: which unit of the role this Pi is, when the config has several
    source: Path | None = None  #: the source tree pip installs; default: this checkout
    upgrade: bool = False  #: rebuild the venv even if this version is installed
    #: ``nidaa provision``'s ``credentials/`` directory: install this unit's password
    credentials: Path | None = None
    #: The folder ``nidaa provision`` wrote (``--out``): the etcd members' and the
    #: brokers' files, the candidates' etcd client certificate, the credentials.
    provisioned: Path | None = None


@dataclass
class Outcome:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  #: what the technician must still do

    def did(self, what: str) -> None:
        self.changes.append(what)

    @property
    def unchanged(self) -> bool:
        return not self.changes


def _under(root: Path, path: str | Path) -> Path:
    return root / str(path).lstrip("/")


def _manifest_path(root: Path, prefix: str) -> Path:
    return _under(root, prefix) / "install.json"


def _read_manifest(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"roles": [], "created_groups": []}
    return {k: list(data.get(k, [])) for k in ("roles", "created_groups")}


def note_role(opts: InstallOptions, out: Outcome) -> None:
    """Adds ``opts.role`` to the manifest (what uninstall undoes)."""
    path = _manifest_path(opts.root, opts.prefix)
    manifest = _read_manifest(path)
    if opts.role not in manifest["roles"]:
        manifest["roles"].append(opts.role)
    if write_atomic(path, json.dumps(manifest, indent=2) + "\n", 0o644):
        out.did(f"manifest {path}")


def ensure_dir(
    path: Path, mode: int, owner: tuple[str, str] | None, system: System, out: Outcome
) -> None:
    """``path`` exists with ``mode`` and (unless None) ``owner``."""
    if not path.is_dir():
        path.mkdir(parents=True)
        out.did(f"created {path}")
    if path.stat().st_mode & 0o7777 != mode:
        path.chmod(mode)
        out.did(f"mode {mode:o} on {path}")
    if owner is not None and system.owner(path) != owner:
        system.chown(path, *owner)
        out.did(f"owner {':'.join(owner)} on {path}")


def ensure_file(
    path: Path,
    data: bytes | str,
    mode: int,
    owner: tuple[str, str],
    system: System,
    out: Outcome,
    what: str,
) -> bool:
    """``path`` holds ``data`` with ``mode`` and ``owner``; True if its bytes changed."""
    changed = write_atomic(path, data, mode)
    if changed:
        out.did(f"{what} {path}")
    if system.owner(path) != owner:
        system.chown(path, *owner)
        out.did(f"owner {':'.join(owner)} on {path}")
    return changed


def pick_unit(opts: InstallOptions, units: list[str]) -> str:
    """The unit of ``opts.role`` this Pi is: ``opts.unit``, or the only one."""
    if opts.unit is not None:
        if opts.unit not in units:
            raise NidaaError(
                f"{opts.config}: no {opts.role} unit {opts.unit!r} in the configuration "
                f"({opts.role} units: {', '.join(units) or 'none'})"
            )
        return opts.unit
    if len(units) != 1:
        raise NidaaError(
            f"{opts.config} has {len(units)} {opts.role} units ({', '.join(units)}): "
            "say which one this Pi is with --unit"
        )
    return units[0]
