"""`nidaa report`: a day's figures as CSV, charts and a printable page."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..config.branch import load_config
from ..errors import BusError, NidaaError, UsageError
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
        help="a business day's report from the master's database, or of every branch from "
        "the central store (CSV, SVG, PDF)",
        description="Tickets per service and hour, waiting and service times, no-shows, the "
        "priority window's service level, per-window throughput and satisfaction feedback. "
        "With --central DSN: every branch side by side from the central PostgreSQL, for a day "
        "or a range (--from, --to).",
    )
    p.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="business day")
    p.add_argument("--config", metavar="FILE", help="branch configuration")
    p.add_argument(
        "--central", metavar="DSN", help="the central store's PostgreSQL connection string: "
        "a report of every branch (password from PGPASSWORD or ~/.pgpass)",
    )  # fmt: skip
    p.add_argument("--from", dest="first", type=_day, metavar="YYYY-MM-DD",
                   help="with --central: first business day of a range")  # fmt: skip
    p.add_argument("--to", dest="last", type=_day, metavar="YYYY-MM-DD",
                   help="with --central: last business day of a range")  # fmt: skip
    p.add_argument("--timezone", default="Africa/Cairo", metavar="ZONE",
                   help="with --central: the branches' time zone, for the hours (default "
                   "Africa/Cairo)")  # fmt: skip
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
    if args.central is not None:
        return _central(args, env)
    if args.first or args.last:
        raise UsageError("--from and --to are for the central report (--central DSN)")
    if not args.config or not args.day:
        raise UsageError("a branch's report needs --config FILE and --day YYYY-MM-DD")
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


def _central(args: argparse.Namespace, env: Environment) -> int:
    from ..central.report import read
    from ..central.report_page import write_central_report

    if args.config or args.db:
        raise UsageError("--central reads the central store: --config and --db are a branch's")
    if args.day and (args.first or args.last):
        raise UsageError("give --day, or --from and --to, not both")
    if not args.day and not (args.first and args.last):
        raise UsageError("--central needs --day YYYY-MM-DD, or --from and --to")
    first, last = (args.day, args.day) if args.day else (args.first, args.last)
    try:
        ZoneInfo(args.timezone)
    except (ValueError, OSError, KeyError):
        raise UsageError(f"unknown time zone {args.timezone!r}") from None
    import psycopg

    try:
        with psycopg.connect(args.central, connect_timeout=10) as conn:
            rep = read(conn, date.fromisoformat(first), date.fromisoformat(last),
                       timezone=args.timezone)  # fmt: skip
    except psycopg.Error as exc:
        raise BusError(f"cannot read the central store: {str(exc).strip()}") from None
    except NoDataError as exc:
        env.err(f"nidaa report: {exc}; nothing written")
        return ExitCode.NO_DATA
    for path in write_central_report(rep, Path(args.out)):
        env.out(str(path))
    return ExitCode.OK
