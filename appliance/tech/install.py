"""`nidaa install` / `nidaa uninstall` on Raspberry Pi OS.

Layout (under ``root``, ``/`` on a real Pi):

================================  ==========================================
``/opt/nidaa/venv``               the package in its own venv
``/opt/nidaa/install.json``       what install made (roles, groups it created)
``/etc/nidaa/branch.toml``        the configuration, 0640 root:nidaa
``/var/lib/nidaa``                state (the master's database), nidaa:nidaa
``/etc/systemd/system/nidaa-*``   one unit per role, enabled
================================  ==========================================

Every step first looks whether it is already done, so a second run changes
nothing and says "unchanged".  All checks (root, configuration, role) run
before the first change: bad input leaves the machine as it was.  Changes
other than files go through :class:`appliance.tech.system.System`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..config.branch import load_config
from ..errors import NidaaError
from .accounts import accounts
from .files import write_atomic
from .system import System
from .units import (
    DEFAULT_PREFIX,
    MOSQUITTO_DROPIN,
    ROLE_GROUPS,
    ROLES,
    UNITS,
    unit_text,
    units_dir,
)

USER = "nidaa"
ETC = Path("etc/nidaa")
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


PASSWORD_FILE = Path("/etc/nidaa/mqtt.password")
CA_FILE = Path("/etc/nidaa/ca.crt")


def check_role(opts: InstallOptions) -> str:
    """The unit id this Pi runs for ``opts.role``; raises before any change."""
    if opts.role not in ROLES:
        raise NidaaError(f"unknown role {opts.role!r}: choose one of {', '.join(ROLES)}")
    cfg = load_config(opts.config)  # ConfigError lists every problem
    unit = _pick_unit(opts, [a.username for a in accounts(cfg) if a.role == opts.role])
    if opts.credentials is not None and not (opts.credentials / f"{unit}.password").is_file():
        raise NidaaError(
            f"no credential for unit {unit!r} in {opts.credentials} (made by nidaa provision)"
        )
    return unit


def _pick_unit(opts: InstallOptions, units: list[str]) -> str:
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


def install(opts: InstallOptions, system: System) -> Outcome:
    if not system.is_root():
        raise NidaaError("nidaa install must run as root: sudo nidaa install ...")
    unit_id = check_role(opts)
    root, out = opts.root, Outcome()
    source = opts.source or units_dir().parent
    prefix_dir = _under(root, opts.prefix)
    manifest_path = _manifest_path(root, opts.prefix)
    manifest = _read_manifest(manifest_path)

    # -- user and groups ---------------------------------------------------
    for group in ROLE_GROUPS[opts.role]:
        if not system.group_exists(group):
            # A missing group would stop the unit from starting at all.
            system.add_group(group)
            manifest["created_groups"].append(group)
            out.did(f"created group {group}")
    if not system.user_exists(USER):
        system.add_user(USER, Path("/") / STATE)
        out.did(f"created system user {USER}")
    have = system.user_groups(USER)
    for group in ROLE_GROUPS[opts.role]:
        if group not in have:
            system.add_user_to_group(USER, group)
            out.did(f"added {USER} to group {group}")

    # -- directories and files ---------------------------------------------
    etc, state = _under(root, ETC), _under(root, STATE)
    for path, mode, owner in (
        (prefix_dir, 0o755, ("root", "root")),
        (etc, 0o750, ("root", USER)),
        (state, 0o750, (USER, USER)),
    ):
        if not path.is_dir():
            path.mkdir(parents=True)
            out.did(f"created {path}")
        if path.stat().st_mode & 0o7777 != mode:
            path.chmod(mode)
            out.did(f"mode {mode:o} on {path}")
        if system.owner(path) != owner:
            system.chown(path, *owner)
            out.did(f"owner {':'.join(owner)} on {path}")

    branch = etc / "branch.toml"
    if write_atomic(branch, Path(opts.config).read_bytes(), 0o640):
        out.did(f"configuration {branch}")
    if system.owner(branch) != ("root", USER):
        system.chown(branch, "root", USER)
        out.did(f"owner root:{USER} on {branch}")

    if opts.credentials is not None:
        _install_credentials(opts, unit_id, system, out)

    venv = prefix_dir / "venv"
    stamp = venv / ".nidaa-version"
    wanted = f"{__version__} {source}\n"
    if opts.upgrade or not stamp.is_file() or stamp.read_text() != wanted:
        system.make_venv(venv, source)
        write_atomic(stamp, wanted, 0o644)
        out.did(f"installed nidaa {__version__} into {venv}")

    # -- systemd -------------------------------------------------------------
    unit = UNITS[opts.role]
    unit_changed = write_atomic(
        _under(root, UNIT_DIR) / unit, unit_text(opts.role, opts.prefix), 0o644
    )
    if unit_changed:
        out.did(f"unit {unit}")
    if opts.role == "master":
        dropin = (units_dir() / MOSQUITTO_DROPIN).read_bytes()
        if write_atomic(_under(root, UNIT_DIR) / MOSQUITTO_DROPIN, dropin, 0o644):
            unit_changed = True
            out.did("mosquitto drop-in")
    if opts.role not in manifest["roles"]:
        manifest["roles"].append(opts.role)
    if write_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n", 0o644):
        out.did(f"manifest {manifest_path}")
    if unit_changed:
        system.systemctl("daemon-reload")
    if not system.is_enabled(unit):
        system.systemctl("enable", unit)
        out.did(f"enabled {unit}")
    return out


def _install_credentials(opts: InstallOptions, unit: str, system: System, out: Outcome) -> None:
    """The unit's MQTT password (nidaa only, 0600) and the branch CA."""
    assert opts.credentials is not None
    secret = (opts.credentials / f"{unit}.password").read_bytes()
    target = _under(opts.root, PASSWORD_FILE)
    if write_atomic(target, secret, 0o600):
        out.did(f"MQTT password of {unit} in {target}")
    if system.owner(target) != (USER, USER):
        system.chown(target, USER, USER)
        out.did(f"owner {USER}:{USER} on {target}")
    ca = opts.credentials.parent / "ca.crt"
    if ca.is_file() and write_atomic(_under(opts.root, CA_FILE), ca.read_bytes(), 0o644):
        out.did(f"branch CA in {_under(opts.root, CA_FILE)}")
    broker = load_config(opts.config).broker
    if broker.username != unit or Path(broker.password_file) != PASSWORD_FILE:
        out.notes.append(
            f'set in /etc/nidaa/branch.toml: [broker] username = "{unit}", '
            f'password_file = "{PASSWORD_FILE}"'
            + (f', ca_file = "{CA_FILE}"' if ca.is_file() else "")
        )


def uninstall(
    root: Path, system: System, *, prefix: str = DEFAULT_PREFIX, purge: bool = False
) -> Outcome:
    """Undo :func:`install`; the state in /var/lib/nidaa stays unless ``purge``."""
    if not system.is_root():
        raise NidaaError("nidaa uninstall must run as root: sudo nidaa uninstall")
    out = Outcome()
    manifest_path = _manifest_path(root, prefix)
    manifest = _read_manifest(manifest_path)
    unit_dir = _under(root, UNIT_DIR)
    for role, unit in UNITS.items():
        path = unit_dir / unit
        if role in manifest["roles"] or path.exists():
            if system.is_enabled(unit):
                system.systemctl("disable", "--now", unit)
                out.did(f"disabled {unit}")
            if path.exists():
                path.unlink()
                out.did(f"removed {path}")
    dropin = unit_dir / MOSQUITTO_DROPIN
    if dropin.exists():
        dropin.unlink()
        if not any(dropin.parent.iterdir()):
            dropin.parent.rmdir()
        out.did(f"removed {dropin}")
    if out.changes:
        system.systemctl("daemon-reload")
    remove = [_under(root, prefix), _under(root, ETC)] + ([_under(root, STATE)] if purge else [])
    for path in remove:
        if path.exists():
            shutil.rmtree(path)
            out.did(f"removed {path}")
    # With its data kept, the state directory is owned by a uid without a
    # name; systemd gives StateDirectory= back to the user on the next install.
    if system.user_exists(USER):
        system.remove_user(USER)
        out.did(f"removed user {USER}")
    for group in manifest["created_groups"]:
        if system.group_exists(group):
            system.remove_group(group)
            out.did(f"removed group {group}")
    return out
