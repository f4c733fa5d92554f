"""`nidaa provision`: Mosquitto users, ACL and TLS for a branch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..bus.credential import load_credential
from ..central.config import load_central_config
from ..config.branch import load_config
from ..tech.bridge import CentralBrokerOptions, provision_bridge, provision_central_broker
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
    p.add_argument("--config", metavar="FILE", help="branch configuration")
    p.add_argument(
        "--central",
        metavar="HOST:PORT",
        help="also bridge this branch to the central broker at HOST:PORT (TLS): writes "
        "bridge.conf and central-ca.crt (needs --central-credential)",
    )
    p.add_argument(
        "--central-credential",
        metavar="FILE",
        help="the branch's credential on the central broker (credentials/branch-<id>.toml "
        "from --central-broker)",
    )
    p.add_argument(
        "--central-broker",
        metavar="CENTRAL_TOML",
        help="provision the central broker instead: TLS, one bridge account per branch of "
        "CENTRAL_TOML, the consumers' account (host name from --tls-host, first one)",
    )
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
    if args.central_broker:
        return _central_broker(args, env)
    if not args.config:
        env.err("nidaa provision: --config FILE is required (or --central-broker)")
        return ExitCode.USAGE
    if bool(args.central) != bool(args.central_credential):
        env.err("nidaa provision: --central and --central-credential go together")
        return ExitCode.USAGE
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
    written, unchanged = list(result.written), list(result.unchanged)
    if args.central:
        bridged = provision_bridge(
            cfg, Path(args.out), args.central, load_credential(args.central_credential),
            Path(args.conf_dir) if args.conf_dir else None,
        )  # fmt: skip
        written += bridged.written
        unchanged += bridged.unchanged
    _list(env, written, unchanged)
    if args.central:
        env.out("bridge.conf goes beside nidaa.conf in /etc/mosquitto/conf.d/ (docs/central.md)")
    env.out(
        f"{len(result.accounts)} accounts; install credentials/<unit>.toml on each unit "
        "(nidaa install --credentials), nidaa.conf to /etc/mosquitto/conf.d/ on the master; "
        "credentials/tech.toml is the technician's"
    )
    if cfg.ha is not None or cfg.broker.fallback_urls:
        env.out(
            "standby (docs/standby.md): on each Pi, nidaa install --from DIR "
            "--role etcd --unit etcd-<n> (each etcd member), --role broker --unit broker-<n> "
            "(each broker), --role master --unit <candidate> (each master candidate); for "
            "another Pi, nidaa pack --from DIR --out PACK <its units> (no CA key) and copy PACK"
        )
    return ExitCode.OK


def _list(env: Environment, written: list[Path], unchanged: list[Path]) -> None:
    for path in written:
        env.out(f"written    {path}")
    for path in unchanged:
        env.out(f"unchanged  {path}")


def _central_broker(args: argparse.Namespace, env: Environment) -> int:
    if not args.tls_host:
        env.err("nidaa provision --central-broker: give the broker's name with --tls-host NAME")
        return ExitCode.USAGE
    cfg = load_central_config(args.central_broker)
    done = provision_central_broker(
        cfg,
        CentralBrokerOptions(
            out=Path(args.out), host=args.tls_host[0], tls_port=args.tls_port, port=args.port,
            bind=args.bind, tls_hosts=args.tls_host[1:], rotate=args.rotate,
            conf_dir=Path(args.conf_dir) if args.conf_dir else None,
            plugin=Path(args.plugin) if args.plugin else None,
        ),
    )  # fmt: skip
    _list(env, done.written, done.unchanged)
    env.out(
        f"{len(cfg.branches)} branch account(s) and the consumers' account; give each branch "
        "its credentials/branch-<id>.toml for `nidaa provision --central`; "
        "nidaa-central.conf goes to /etc/mosquitto/conf.d/ on the central broker"
    )
    return ExitCode.OK
