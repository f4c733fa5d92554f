"""`nidaa master`: run the master daemon."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..clock import Clock, ScaledClock
from ..config.branch import load_config
from ..errors import UsageError
from ..master.candidate import CandidateMaster
from ..master.daemon import MasterDaemon
from .common import add_bus_options
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser("master", help="run the master daemon (queue state, numbers, calls)")
    add_bus_options(p, json_output=False)
    p.add_argument("--db", metavar="PATH", help="SQLite database, overrides master.database")
    p.add_argument(
        "--unit",
        metavar="ID",
        help="this master's unit id, one of ha.candidates (default: master.unit)",
    )
    # A compressed clock for the virtual branch; not for a real centre.
    p.add_argument("--sim-clock", metavar="ISO@SPEED", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    clock: Clock | None = ScaledClock.parse(args.sim_clock) if args.sim_clock else None
    db = args.db or cfg.master.database
    kind = MasterDaemon if cfg.ha is None else CandidateMaster
    if args.unit and cfg.ha is None and args.unit != cfg.master.unit:
        raise UsageError(f"--unit {args.unit}: only a branch with [ha] has other master units")
    daemon = kind(
        cfg,
        db_path=db,
        broker_url=args.broker,
        unit=args.unit,
        **({"clock": clock} if clock else {}),
    )
    env.err(f"master {daemon.unit}: branch {cfg.branch.id}, database {db}, pid {os.getpid()}")
    daemon.run()
    return ExitCode.OK
