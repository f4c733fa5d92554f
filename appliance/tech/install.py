"""`nidaa install` / `nidaa uninstall` on Raspberry Pi OS.

Layout (under ``root``, ``/`` on a real Pi):

================================  ==========================================
``/opt/nidaa/venv``               the package in its own venv
``/opt/nidaa/install.json``       what install made (roles, groups it created)
``/etc/nidaa/branch.toml``        the configuration, 0640 root:nidaa
``/etc/nidaa/credentials/<unit>.toml``  each installed unit's MQTT credential, 0600 nidaa
``/etc/nidaa/nidaa-<role>.env``   which unit the role's service runs (``--unit``)
``/var/lib/nidaa``                state (the master's database), nidaa:nidaa
``/etc/systemd/system/nidaa-*``   one unit per role, enabled
``/usr/local/bin/nidaa``          the command, on every user's PATH
================================  ==========================================

Every step first looks whether it is already done, so a second run changes
nothing and says "unchanged", and a run stopped midway (power, a full disk)
is completed by the next.  All checks (root, configuration, role, unit,
credential) run before the first change: bad input leaves the machine as it
was.  Changes other than files go through :class:`appliance.tech.system.System`
(the host, or with ``--root`` an image whose own ``etc/passwd`` gets the user).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from .. import __version__
from ..central.config import load_central_config
from ..central.web.sessions import new_secret_text
from ..config.branch import load_config
from ..errors import HardwareError, NidaaError
from . import libraries
from .accounts import accounts
from .files import write_atomic
from .install_cluster import (
    CLUSTER_ROLES,
    check_etcd_client,
    install_cluster_role,
    install_etcd_client,
    uninstall_cluster_roles,
)
from .layout import (
    ETC,
    ETC_MODE,
    STATE,
    UNIT_DIR,
    USER,
    InstallOptions,
    Outcome,
    _manifest_path,
    _read_manifest,
    _under,
    pick_unit,
)
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

__all__ = ["InstallOptions", "Outcome", "install", "installed_units", "uninstall"]

CREDENTIALS = ETC / "credentials"
#: The central consumers' credential (nidaa provision --central-broker).
CONSUMER = "central"
#: The dashboard's session key, under /etc/nidaa (docs/central.md).
DASHBOARD_SECRET = "dashboard.secret"
COMMAND_LINK = Path("usr/local/bin/nidaa")
#: Roles whose daemon takes ``--unit`` (the others have one unit per branch).
UNIT_OPTION = ("kiosk", "counter", "display")


def env_file(role: str) -> Path:
    """The unit file's ``EnvironmentFile=-/etc/nidaa/%N.env``."""
    return ETC / f"{UNITS[role].removesuffix('.service')}.env"


def env_text(role: str, unit: str, standby: bool = False) -> str:
    """``standby``: a branch with ``[ha]``, whose master candidates say which they are."""
    args = f"--unit {unit}" if role in UNIT_OPTION or (standby and role == "master") else ""
    return f'# Written by nidaa install: this Pi runs {role} unit {unit}.\nNIDAA_ARGS="{args}"\n'


def installed_units(config: str | Path) -> dict[str, str]:
    """role → unit installed on this Pi, from the env files next to its
    configuration (``/etc/nidaa/nidaa-<role>.env``): how commands run on a
    unit (``nidaa test buttons``) know which unit they are on."""
    folder = Path(config).parent
    found: dict[str, str] = {}
    for role in UNITS:
        try:
            text = (folder / env_file(role).name).read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("# Written by nidaa install: this Pi runs "):
                found[role] = line.rsplit(" unit ", 1)[1].rstrip(".")
    return found


def check_role(opts: InstallOptions) -> str:
    """The unit id this Pi runs for ``opts.role``; raises before any change."""
    if opts.role not in ROLES:
        known = ", ".join((*ROLES, *CLUSTER_ROLES))
        raise NidaaError(f"unknown role {opts.role!r}: choose one of {known}")
    if opts.role == "central":
        consumer = load_central_config(opts.config).central.consumer
        if opts.credentials is not None and not (opts.credentials / f"{CONSUMER}.toml").is_file():
            raise NidaaError(f"no credential {CONSUMER}.toml in {opts.credentials} "
                             "(made by nidaa provision --central-broker)")  # fmt: skip
        return consumer
    cfg = load_config(opts.config)  # ConfigError lists every problem
    unit = pick_unit(opts, [a.username for a in accounts(cfg) if a.role == opts.role])
    absent = libraries.missing(libraries.needed(cfg, opts.role, unit))
    if absent:
        raise HardwareError(
            "the configuration needs libraries that do not import here:\n  " + "\n  ".join(absent)
        )
    if opts.credentials is not None and not (opts.credentials / f"{unit}.toml").is_file():
        raise NidaaError(
            f"no credential for unit {unit!r} in {opts.credentials} (made by nidaa provision)"
        )
    if opts.role == "master":
        check_etcd_client(cfg, opts)
    return unit


def install(opts: InstallOptions, system: System) -> Outcome:
    if not system.is_root():
        raise NidaaError("nidaa install must run as root: sudo nidaa install ...")
    if opts.provisioned is not None and opts.credentials is None and opts.role != "central":
        opts = dataclasses.replace(opts, credentials=opts.provisioned / "credentials")
    if opts.role in CLUSTER_ROLES:
        return install_cluster_role(opts, system)
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
            # Noted at once: a run stopped later must still let uninstall
            # remove what it made.
            write_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n", 0o644)
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
        (etc, ETC_MODE, ("root", USER)),
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

    branch = etc / ("central.toml" if opts.role == "central" else "branch.toml")
    if write_atomic(branch, Path(opts.config).read_bytes(), 0o640):
        out.did(f"configuration {branch}")
    if system.owner(branch) != ("root", USER):
        system.chown(branch, "root", USER)
        out.did(f"owner root:{USER} on {branch}")

    if opts.credentials is not None:
        _install_credential(opts, CONSUMER if opts.role == "central" else unit_id, system, out)
    if opts.role == "master":
        install_etcd_client(load_config(opts.config), opts, system, out)
    if opts.role == "central":
        _dashboard_secret(etc, system, out)
        out.notes.append("the central PostgreSQL database and its user, and [central] database "
                         "in /etc/nidaa/central.toml (docs/central.md)")  # fmt: skip
    env = _under(root, env_file(opts.role))
    standby = opts.role == "master" and load_config(opts.config).ha is not None
    if write_atomic(env, env_text(opts.role, unit_id, standby), 0o644):
        out.did(f"unit {unit_id} in {env}")

    venv = prefix_dir / "venv"
    stamp = venv / ".nidaa-version"
    wanted = f"{__version__} {source}\n"
    if opts.upgrade or not stamp.is_file() or stamp.read_text() != wanted:
        system.make_venv(venv, source)
        write_atomic(stamp, wanted, 0o644)
        out.did(f"installed nidaa {__version__} into {venv}")
    link = _under(root, COMMAND_LINK)
    target = Path(opts.prefix) / "venv/bin/nidaa"
    if not link.is_symlink() or Path(link.readlink()) != target:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        out.did(f"command {link} -> {target}")

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


def _dashboard_secret(etc: Path, system: System, out: Outcome) -> None:
    """The key signing the dashboard's session cookies (made once, kept by
    every later install: sessions outlive a restart and an upgrade)."""
    path = etc / DASHBOARD_SECRET
    if not path.exists():
        write_atomic(path, new_secret_text(), 0o600)
        out.did(f"dashboard session key {path}")
    if system.owner(path) != (USER, USER):
        system.chown(path, USER, USER)
        out.did(f"owner {USER}:{USER} on {path}")
    out.notes.append(f"[dashboard] session_secret_file = \"/{ETC}/{DASHBOARD_SECRET}\" "
                     "in central.toml (the same file on every consumer serving it)")  # fmt: skip


def _install_credential(opts: InstallOptions, unit: str, system: System, out: Outcome) -> None:
    """The unit's own credential file (nidaa only, 0600): one file per unit,
    so two roles on one Pi (master and SMS gateway) keep both."""
    assert opts.credentials is not None
    folder = _under(opts.root, CREDENTIALS)
    if not folder.is_dir():
        folder.mkdir(parents=True)
        out.did(f"created {folder}")
    if folder.stat().st_mode & 0o7777 != 0o750:
        folder.chmod(0o750)
        out.did(f"mode 750 on {folder}")
    if system.owner(folder) != ("root", USER):
        system.chown(folder, "root", USER)
        out.did(f"owner root:{USER} on {folder}")
    target = folder / f"{unit}.toml"
    if write_atomic(target, (opts.credentials / f"{unit}.toml").read_bytes(), 0o600):
        out.did(f"MQTT credential of {unit} in {target}")
    if system.owner(target) != (USER, USER):
        system.chown(target, USER, USER)
        out.did(f"owner {USER}:{USER} on {target}")


def uninstall(
    root: Path, system: System, *, prefix: str = DEFAULT_PREFIX, purge: bool = False
) -> Outcome:
    """Undo :func:`install`; the state in /var/lib/nidaa stays unless ``purge``."""
    if not system.is_root():
        raise NidaaError("nidaa uninstall must run as root: sudo nidaa uninstall")
    out = Outcome()
    manifest_path = _manifest_path(root, prefix)
    manifest = _read_manifest(manifest_path)
    uninstall_cluster_roles(root, system, manifest["roles"], purge, out)
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
    link = _under(root, COMMAND_LINK)
    if link.is_symlink() and str(link.readlink()).startswith(str(Path(prefix))):
        link.unlink()
        out.did(f"removed {link}")
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
