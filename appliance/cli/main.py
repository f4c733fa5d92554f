"""Entry point of the `nidaa` command.

Each group of subcommands lives in its own module exposing
``register(subparsers)``; the parser it adds sets ``func(args, env) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import BusError, ConfigError, HardwareError, NidaaError, QueueError
from .env import Environment, ExitCode

# Modules that add subcommands, in the order `nidaa --help` lists them.
COMMAND_MODULES = [
    "appliance.cli.master_cmd",
    "appliance.cli.queue_cmds",
    "appliance.cli.config_cmd",
    "appliance.cli.demo_cmd",
    "appliance.cli.bench_cmd",
    "appliance.cli.provision_cmd",
    "appliance.cli.install_cmd",
    "appliance.cli.report_cmd",
    "appliance.cli.counter_cmd",  # after queue_cmds: adds the daemon to `nidaa counter`
    "appliance.cli.hall_cmd",
    "appliance.cli.kiosk_cmd",
    "appliance.cli.sms_cmd",
    "appliance.cli.selftest_cmd",
]

EPILOG = """exit codes: 0 ok, 1 error, 2 usage, 3 configuration invalid,
4 broker or master unreachable, 5 refused by the master, 6 hardware fault"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nidaa",
        description="Nidaa (نداء) queue-calling appliance: daemons and technician tools.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nidaa {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=env.stderr,
    )
    try:
        return int(args.func(args, env))
    except ConfigError as exc:
        env.err(str(exc))
        return ExitCode.CONFIG
    except BusError as exc:
        env.err(str(exc))
        return ExitCode.UNREACHABLE
    except QueueError as exc:
        env.err(f"refused: {exc.message} ({exc.code})")
        return ExitCode.REFUSED
    except HardwareError as exc:
        env.err(str(exc))
        return ExitCode.HARDWARE
    except NidaaError as exc:
        env.err(str(exc))
        return ExitCode.ERROR
    except KeyboardInterrupt:
        return 130


def main() -> None:
    sys.exit(run())
