"""`nidaa bench`: the benchmark (not a test)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..sim.bench.run import run_bench
from .demo_cmd import EXAMPLE
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure latency, throughput and memory against a floor")
    p.add_argument("--config", type=Path, default=EXAMPLE, help="branch configuration")
    p.add_argument("--samples", type=int, default=300, help="requests per measurement")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    day = p.add_mutually_exclusive_group()
    day.add_argument(
        "--day",
        dest="day_tickets",
        action="store_const",
        const=3000,
        default=0,
        help="also run a busy day: 3,000 tickets, 12 counters, every unit (a few minutes)",
    )
    day.add_argument(
        "--day-tickets", type=int, metavar="N", help="also run a busy day of N tickets"
    )
    p.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="also time issue and call-next with N past tickets in the database, beside an "
        "empty one",
    )
    p.add_argument(
        "--standby",
        action="store_true",
        help="only the standby master: issue and call-next with etcd in every commit, beside"
        " the floor with one etcd transaction (a private three-member cluster; docs/standby.md)",
    )
    p.add_argument(
        "--central",
        action="store_true",
        help="instead: how many busy branches (a ticket every 10 s) one central consumer "
        "keeps up with, lag p99 under 2 s (docs/central.md)",
    )
    p.add_argument("--step-s", type=float, default=30.0, help=argparse.SUPPRESS)
    p.set_defaults(func=bench)


def bench(args: argparse.Namespace, env: Environment) -> int:
    if args.central:
        import tempfile

        from ..sim.central.bench import run_central_bench

        with tempfile.TemporaryDirectory(prefix="nidaa-central-bench-") as tmp:
            central = run_central_bench(Path(tmp), step_s=args.step_s, log=env.err)
        if args.json:
            env.json(central)
        else:
            for key, value in central.items():
                env.out(f"{key:<28} {value}")
        return ExitCode.OK
    if args.standby:
        from ..sim.bench.standby import standby_figures

        result = {"samples": max(20, args.samples)}
        result.update(standby_figures(args.config, result["samples"]))
    else:
        result = run_bench(
            args.config,
            samples=max(20, args.samples),
            day_tickets=max(0, args.day_tickets or 0),
            history=max(0, args.history),
        )
    if args.json:
        env.json(result)
    else:
        for key, value in result.items():
            env.out(f"{key:<28} {value}")
    return ExitCode.OK
