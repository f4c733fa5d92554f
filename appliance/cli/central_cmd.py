"""`nidaa central`: the central service of many branches (docs/central.md)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..central.config import load_central_config
from ..central.consumer import CentralConsumer
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "central",
        help="run the central service: every branch's tickets into PostgreSQL",
        description="Consume the branches' changes from the central broker into the central "
        "PostgreSQL, and ask a branch to replay whatever is missing.",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="central.toml")
    p.add_argument("--broker", metavar="URL", help="central broker URL, overrides [broker] url")
    p.add_argument(
        "--database", metavar="DSN", help="PostgreSQL connection string, overrides [central]"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_central_config(args.config)
    consumer = CentralConsumer(cfg, broker_url=args.broker, database=args.database)
    env.err(f"central: consumer {cfg.central.consumer}, pid {os.getpid()}")
    consumer.run()
    return ExitCode.OK
