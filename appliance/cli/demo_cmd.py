"""`nidaa demo`: run a virtual branch."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from typing import Any

from ..config.example import EXAMPLE_PATH
from ..sim.demo.chaos import MUST_BE_ZERO, ChaosOptions, run_chaos
from ..sim.demo.run import run_demo
from ..sim.hooks import DemoOptions
from .env import Environment, ExitCode

EXAMPLE = EXAMPLE_PATH


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run a virtual branch: a whole day in about a minute")
    p.add_argument("--config", type=Path, default=EXAMPLE, help="branch configuration")
    p.add_argument(
        "--minutes", type=float, default=1.0, help="real minutes for the day (default 1)"
    )
    p.add_argument("--arrivals", type=float, default=60.0, help="citizens per hour (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument(
        "--chaos",
        action="store_true",
        help="every unit as a process, faults injected (kill -9, Mosquitto restarts, frozen "
        "units, paper out, modem errors and unplugged); check the invariants",
    )
    p.add_argument(
        "--fault-every",
        type=float,
        default=4.0,
        metavar="S",
        help="with --chaos: mean seconds between faults (default 4)",
    )
    p.add_argument(
        "--standby",
        action="store_true",
        help="with --chaos: two master candidates on a three-member etcd cluster and a broker"
        " on each candidate's Pi; the active master killed, paused past its lease, its whole Pi"
        " lost, etcd members killed (docs/standby.md)",
    )
    p.add_argument(
        "--attacks",
        action="store_true",
        help="the security drill: issue 12's attempts with stolen unit credentials against a "
        "provisioned Mosquitto and the real master",
    )
    p.add_argument(
        "--central",
        action="store_true",
        help="many branches bridged to a central broker, the central service and a private "
        "PostgreSQL; links cut, the consumer and PostgreSQL restarted, one bridge queue "
        "overflowed; every branch's database compared with the central copy (docs/central.md)",
    )
    p.add_argument(
        "--branches", type=int, default=3, metavar="N", help="with --central: branches (default 3)"
    )
    p.add_argument(
        "--report",
        type=Path,
        metavar="MD",
        help="with --chaos: write the table of faults and invariants here (docs/reliability.md); "
        "with --attacks: the table of attempts (docs/security.md)",
    )
    p.set_defaults(func=demo)


def _interrupt(signum: int, frame: object) -> None:
    # One Ctrl-C (or kill) is enough: a second one must not cut the clean-up
    # short and leave part of the branch running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def demo(args: argparse.Namespace, env: Environment) -> int:
    # Ctrl-C and `kill` both stop the branch cleanly: every process it started
    # is stopped by the run's own clean-up, none is left behind.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if not args.verbose:
        # The kiosks and counters run in this process: their per-ticket log
        # lines would drown the live view (`nidaa -v demo` shows them).
        logging.getLogger("appliance").setLevel(logging.WARNING)
    if args.minutes <= 0 or args.arrivals <= 0:
        env.err("--minutes and --arrivals must be positive")
        return ExitCode.USAGE
    if args.standby and not args.chaos:
        env.err("--standby goes with --chaos")
        return ExitCode.USAGE
    if args.chaos:
        return chaos(args, env)
    if args.attacks:
        return attacks(args, env)
    if args.central:
        return central(args, env)
    options = DemoOptions(
        config=args.config, out=args.out, minutes=args.minutes, seed=args.seed,
        per_hour=args.arrivals, live=not args.json,
    )  # fmt: skip
    summary = run_demo(options, env.stdout if not args.json else env.stderr)
    if args.json:
        env.json(summary)
        return ExitCode.OK
    env.out("")
    env.out(f"Day {summary['simulated_day']} (×{summary['speed']})")
    env.out(
        f"  counters            {summary['counters']} (staffed for {args.arrivals:g} arrivals an hour)"
    )
    env.out(f"  tickets issued      {summary['tickets']}")
    env.out(f"    = served          {summary['served']}")
    env.out(f"    + no-shows        {summary['no_shows']}")
    env.out(f"    + voided          {summary['voided']}  (a kiosk could not print them)")
    env.out(f"    + still waiting   {summary['still_waiting']}  (in the hall at closing)")
    env.out(f"    + at a window     {summary['at_window']}  (being served at closing)")
    env.out(
        f"  on paper            {summary['tickets_printed']} printed at the kiosks, "
        f"{summary['tickets_without_paper']} taken at a counter for SMS citizens, "
        f"{summary['tickets_unprinted']} not printed (voided, or printing at closing)"
    )
    env.out(f"  mean wait           {summary['mean_wait_min']} min")
    env.out(f"  p90 wait            {summary['p90_wait_min']} min")
    share = summary["priority_within_target"]
    level = "—" if share is None else f"{share:.0%}"
    env.out(f"  priority window     {level} of {summary['priority_tickets']} priority tickets "
            f"called within {summary['priority_target_min']:.0f} min")  # fmt: skip
    env.out(f"  output              {summary['output']} (the day report: report/report.pdf)")
    return ExitCode.OK


def chaos(args: argparse.Namespace, env: Environment) -> int:
    options = ChaosOptions(
        config=args.config,
        out=args.out,
        seconds=args.minutes * 60,
        seed=args.seed,
        fault_every_s=args.fault_every,
        standby=args.standby,
    )
    result = run_chaos(options, show=(lambda line: None) if args.json else env.out)
    broken = [k for k in MUST_BE_ZERO if result.get(k)]
    result["invariants_held"] = not broken
    if args.report is not None:
        from ..sim.demo.reliability import write_report

        write_report(args.report, result, _command(args))
    if args.json:
        env.json(result)
    else:
        for key, value in result.items():
            mark = "  ✗" if key in broken else ""
            env.out(f"{key:<24} {value}{mark}")
    return ExitCode.OK if not broken else ExitCode.ERROR


def central(args: argparse.Namespace, env: Environment) -> int:
    from ..sim.central.demo import CentralDemoOptions, run_central_demo

    if not 1 <= args.branches <= 200:
        env.err("--branches must be from 1 to 200")
        return ExitCode.USAGE
    seconds = args.minutes * 60
    options = CentralDemoOptions(
        out=args.out, branches=args.branches, seconds=seconds, seed=args.seed,
        cut_s=min(20.0, 0.3 * seconds),
    )  # fmt: skip
    result = run_central_demo(options, log=env.err if args.json else env.out)
    if args.json:
        env.json(result)
    else:
        for key, value in result.items():
            env.out(f"{key:<26} {value}")
    lost = result["tickets_missing_central"] or result["tickets_mismatched"]
    return ExitCode.ERROR if lost else ExitCode.OK


def attacks(args: argparse.Namespace, env: Environment) -> int:
    from ..sim.demo.attacks import run_drill, write_report

    results = run_drill(args.config)
    if args.report is not None:
        write_report(args.report, results)
    if args.json:
        env.json({"attempts": [vars(a) for a in results]})
    else:
        for a in results:
            env.out(f"{a.item}  {'held  ' if a.held else 'FAILED'}  {a.what}: {a.result}")
    return ExitCode.OK if all(a.held for a in results) else ExitCode.ERROR


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces the run (for the report)."""
    words = ["nidaa demo --chaos", f"--minutes {args.minutes:g}", f"--seed {args.seed}"]
    if args.standby:
        words.insert(1, "--standby")
    if args.fault_every != 4.0:
        words.append(f"--fault-every {args.fault_every:g}")
    if args.config != EXAMPLE:
        words.append(f"--config {args.config}")
    return " ".join([*words, f"--report {args.report}"])
