"""`nidaa counter`: run a counter unit (buttons and LED display)."""

from __future__ import annotations

import argparse
import os
import signal
from typing import Any

from ..config.branch import load_config
from .common import add_bus_options
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    # `nidaa counter ACTION COUNTER` (the technician's clerk actions) shares the
    # name: without an ACTION the same parser runs the unit.
    p = sub.choices.get("counter") or sub.add_parser("counter")
    p.description = (
        "Without ACTION: run the counter unit (call buttons and LED display) "
        "configured in FILE's [[counter_units]]."
    )
    add_bus_options(p, json_output=False)
    p.add_argument("--unit", metavar="ID", help="which [[counter_units]] table (if several)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    from ..counter.daemon import CounterDaemon

    cfg = load_config(args.config)
    daemon = CounterDaemon(cfg, args.unit, args.broker)
    signal.signal(signal.SIGTERM, lambda *_: daemon.request_stop())
    u = daemon.unit
    env.err(
        f"counter: unit {u.unit}, counter {u.counter}, display {u.display.backend} "
        f"{u.display.port if u.display.backend == 'serial' else ''}, pid {os.getpid()}"
    )
    daemon.run()
    return ExitCode.OK
