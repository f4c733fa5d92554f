"""`nidaa pack`: one Pi's part of the provisioning folder (docs/standby.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config.branch import load_config
from ..tech.pack import pack_sources, write_pack
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pack",
        help="copy from nidaa provision's folder only what one Pi's units need",
        description="Write into OUT exactly the files nidaa install --from reads for UNITs "
        "(etcd members, brokers, MQTT units), never a CA key or another unit's secret; "
        "copy OUT to that Pi instead of the whole provisioning folder.",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="branch configuration")
    p.add_argument("--from", dest="provisioned", required=True, metavar="DIR",
                   help="the folder nidaa provision wrote")  # fmt: skip
    p.add_argument("--out", required=True, metavar="OUT", help="a new or empty folder")
    p.add_argument("units", nargs="+", metavar="UNIT", help="e.g. etcd-2 broker-2 master-b")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    top, out = Path(args.provisioned), Path(args.out)
    if not top.is_dir():
        env.err(f"nidaa pack: {top} is not a folder (the one nidaa provision wrote)")
        return ExitCode.USAGE
    written = write_pack(out, pack_sources(cfg, top, list(dict.fromkeys(args.units))))
    for path in written:
        env.out(f"written    {path}")
    env.out(
        f"{len(written)} files for {', '.join(dict.fromkeys(args.units))}; copy {out} to that "
        f"Pi (root only), run nidaa install --from {out} there, then delete it"
    )
    return ExitCode.OK
