"""`nidaa central`: the central service of many branches (docs/central.md)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..central.config import load_central_config
from ..central.consumer import CentralConsumer
from ..central.web.server import serve
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "central",
        help="run the central service: every branch's tickets into PostgreSQL, and the "
        "web dashboard",
        description="Consume the branches' changes from the central broker into the central "
        "PostgreSQL, and ask a branch to replay whatever is missing; serve the web dashboard "
        "when [dashboard] listen is set.",
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
    # The dashboard reads what the consumer writes, in a thread of this process.
    dashboard = serve(
        cfg.dashboard, args.database or cfg.central.database, password=cfg.central.password(),
        target_wait_s=cfg.central.target_wait_s,
    )  # fmt: skip
    if dashboard is not None:
        env.err(f"central: dashboard on {dashboard.url}")
    try:
        consumer.run()
    finally:
        if dashboard is not None:
            dashboard.stop()
    return ExitCode.OK
