"""`nidaa report`: a day's figures as CSV, charts and a printable page."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ..config.branch import load_config
from ..errors import NidaaError
from ..tech.report import NoDataError
from ..tech.report_files import write_report
from .env import Environment, ExitCode


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="a business day's report from the master's database (CSV, SVG, PDF)",
        description="Tickets per service and hour, waiting and service times, no-shows, the "
        "priority window's service level, per-window throughput and satisfaction feedback.",
    )
    p.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD", help="business day")
    p.add_argument("--config", required=True, metavar="FILE", help="branch configuration")
    p.add_argument("--db", metavar="PATH", help="master database (default: [master] database)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the files")
    p.add_argument(
        "--priority-target",
        type=float,
        default=10.0,
        metavar="MIN",
        help="a priority ticket is on time when called within MIN minutes (default 10)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    if args.priority_target <= 0:
        raise NidaaError("--priority-target must be more than 0 minutes")
    db = Path(args.db or cfg.master.database)
    try:
        files = write_report(
            cfg, db, args.day, Path(args.out), priority_target_min=args.priority_target
        )
    except NoDataError as exc:
        env.err(f"nidaa report: {exc}; nothing written")
        return ExitCode.NO_DATA
    for path in files:
        env.out(str(path))
    return ExitCode.OK
