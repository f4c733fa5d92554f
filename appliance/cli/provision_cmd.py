"""`nidaa provision`: Mosquitto users, ACL and TLS for a branch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config.branch import load_config
from ..tech.provision import ProvisionOptions, provision
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "provision",
        help="generate the branch broker's users, ACL and TLS certificates",
        description="Write the branch's Mosquitto configuration, password file, ACL and one "
        "credential file per unit into DIR.  A second run keeps existing passwords and "
        "certificates unless --rotate.",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="branch configuration")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    p.add_argument("--tls", action="store_true", help="add a TLS listener with a branch CA")
    p.add_argument("--rotate", action="store_true", help="new passwords (and CA with --tls)")
    p.add_argument("--port", type=int, default=1883, help="plain MQTT port (default 1883)")
    p.add_argument("--tls-port", type=int, default=8883, help="MQTT over TLS port (default 8883)")
    p.add_argument("--bind", default="", metavar="ADDR", help="listen on ADDR only")
    p.add_argument(
        "--tls-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name or address of the master for the certificate (repeatable)",
    )
    p.add_argument(
        "--conf-dir",
        metavar="DIR",
        help="where passwd, acl and certificates will be on the broker (default: --out)",
    )
    p.add_argument(
        "--plugin",
        metavar="FILE",
        help="Mosquitto's mosquitto_dynamic_security.so (default: found in /usr/lib)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    opts = ProvisionOptions(
        out=Path(args.out),
        tls=args.tls,
        rotate=args.rotate,
        port=args.port,
        tls_port=args.tls_port,
        bind=args.bind,
        tls_hosts=args.tls_host,
        conf_dir=Path(args.conf_dir) if args.conf_dir else None,
        plugin=Path(args.plugin) if args.plugin else None,
    )
    result = provision(cfg, opts)
    for acc in result.accounts:
        state = "new password" if acc.username in result.new_passwords else "kept"
        env.out(f"  {acc.role:<12} {acc.username:<12} {state}")
    for path in result.written:
        env.out(f"written    {path}")
    for path in result.unchanged:
        env.out(f"unchanged  {path}")
    env.out(
        f"{len(result.accounts)} accounts; install credentials/<unit>.toml on each unit "
        "(nidaa install --credentials), nidaa.conf to /etc/mosquitto/conf.d/ on the master; "
        "credentials/tech.toml is the technician's"
    )
    if cfg.ha is not None:
        env.out(
            "etcd (docs/standby.md): on each member's Pi etcd/<member>.env as /etc/default/etcd"
            " and etcd/ca.crt, <member>.crt, <member>.key in /etc/nidaa/etcd; on each master"
            " candidate etcd/ca.crt, client.crt, client.key in /etc/nidaa/etcd"
        )
    return ExitCode.OK
