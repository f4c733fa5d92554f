"""`nidaa install` and `nidaa uninstall`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..tech.install import InstallOptions, Outcome, install, uninstall
from ..tech.install_cluster import CLUSTER_ROLES
from ..tech.system import HostSystem, ImageSystem, System
from ..tech.units import DEFAULT_PREFIX, ROLES
from .env import Environment, ExitCode


def host_system(root: Path) -> System:
    """The machine the command changes: this one, or the image at ``--root``."""
    return HostSystem() if root.resolve() == Path("/") else ImageSystem(root)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "install",
        help="install a role on this Pi (venv, user, configuration, systemd unit)",
        description="Install Nidaa for ROLE: a venv under PREFIX, the configuration in "
        "/etc/nidaa, state in /var/lib/nidaa, the system user nidaa and the role's systemd "
        "unit, enabled.  Running it again changes nothing.",
    )
    roles = (*ROLES, *CLUSTER_ROLES)
    p.add_argument("--role", required=True, choices=roles, help=f"one of: {', '.join(roles)}")
    p.add_argument("--config", required=True, metavar="FILE", help="branch configuration")
    p.add_argument(
        "--unit",
        help="which unit of the role this Pi is, if the config has several "
        "(etcd-1, etcd-2 ... for --role etcd; broker-1, broker-2 ... for --role broker)",
    )
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"default {DEFAULT_PREFIX}")
    p.add_argument("--root", default="/", metavar="DIR", help="root of the file system (default /)")
    p.add_argument("--upgrade", action="store_true", help="reinstall the package into the venv")
    p.add_argument(
        "--credentials",
        metavar="DIR",
        help="nidaa provision's credentials/ directory: install this unit's MQTT password",
    )
    p.add_argument(
        "--from",
        dest="provisioned",
        metavar="DIR",
        help="the folder nidaa provision wrote: an etcd member's or a broker's files, a "
        "master candidate's etcd certificate, and the unit's credential (DIR/credentials)",
    )
    p.set_defaults(func=run_install)

    u = sub.add_parser(
        "uninstall",
        help="undo nidaa install (keeps /var/lib/nidaa unless --purge)",
    )
    u.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"default {DEFAULT_PREFIX}")
    u.add_argument("--root", default="/", metavar="DIR", help="root of the file system (default /)")
    u.add_argument("--purge", action="store_true", help="also delete /var/lib/nidaa (the data)")
    u.set_defaults(func=run_uninstall)


def _report(env: Environment, outcome: Outcome) -> int:
    if outcome.unchanged:
        env.out("unchanged")
    for change in outcome.changes:
        env.out(f"  {change}")
    for note in outcome.notes:
        env.out(f"to do: {note}")
    return ExitCode.OK


def run_install(args: argparse.Namespace, env: Environment) -> int:
    root = Path(args.root)
    opts = InstallOptions(
        role=args.role,
        config=Path(args.config),
        root=root,
        prefix=args.prefix,
        unit=args.unit,
        upgrade=args.upgrade,
        credentials=Path(args.credentials) if args.credentials else None,
        provisioned=Path(args.provisioned) if args.provisioned else None,
    )
    return _report(env, install(opts, host_system(root)))


def run_uninstall(args: argparse.Namespace, env: Environment) -> int:
    root = Path(args.root)
    return _report(env, uninstall(root, host_system(root), prefix=args.prefix, purge=args.purge))
