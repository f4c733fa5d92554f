"""Entry point of the `nidaa` command.

Each group of subcommands lives in its own module exposing
``register(subparsers)``; the parser it adds sets ``func(args, env) -> int``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import (
    AuthError,
    BusError,
    ConfigError,
    HardwareError,
    NidaaError,
    QueueError,
    UsageError,
)
from .env import Environment, ExitCode

# Modules that add subcommands, in the order `nidaa --help` lists them.
COMMAND_MODULES = [
    "appliance.cli.master_cmd",
    "appliance.cli.central_cmd",
    "appliance.cli.queue_cmds",
    "appliance.cli.config_cmd",
    "appliance.cli.demo_cmd",
    "appliance.cli.bench_cmd",
    "appliance.cli.provision_cmd",
    "appliance.cli.pack_cmd",
    "appliance.cli.install_cmd",
    "appliance.cli.report_cmd",
    "appliance.cli.counter_cmd",  # after queue_cmds: adds the daemon to `nidaa counter`
    "appliance.cli.hall_cmd",
    "appliance.cli.kiosk_cmd",
    "appliance.cli.sms_cmd",
    "appliance.cli.selftest_cmd",
    "appliance.cli.dashboard_cmd",
]

#: The daemons, and the modules that add each: a daemon's process imports
#: only these (every other command's libraries, the central store's and the
#: dashboard's among them, would cost a Pi's memory for nothing).  Any other
#: command, and --help, builds the whole parser.
DAEMON_MODULES = {
    "master": ["appliance.cli.master_cmd"],
    "counter": ["appliance.cli.queue_cmds", "appliance.cli.counter_cmd"],
    "display": ["appliance.cli.hall_cmd"],
    "kiosk": ["appliance.cli.kiosk_cmd"],
    "sms-gateway": ["appliance.cli.sms_cmd"],
}

EPILOG = """exit codes: 0 ok, 1 error, 2 usage, 3 configuration invalid,
4 broker, master or central store unreachable, 5 refused by the master, 6 hardware fault,
7 not authorized by the broker (credential, client id or topic)"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or with ``command`` a daemon's only."""
    parser = argparse.ArgumentParser(
        prog="nidaa",
        description="Nidaa (نداء) queue-calling appliance: daemons and technician tools.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nidaa {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in DAEMON_MODULES.get(command or "", COMMAND_MODULES):
        importlib.import_module(name).register(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (options come before it)."""
    return next((a for a in argv if not a.startswith("-")), None)


def run(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=env.stderr,
    )
    try:
        return int(args.func(args, env))
    except NidaaError as exc:
        code, message = _failure(exc)
        env.err(message)
        if getattr(args, "json", False):
            # A script reading --json gets one object, the error included.
            error = {"code": getattr(exc, "code", "error"), "message": message}
            env.json({"ok": False, "exit": int(code), "error": error})
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `nidaa provision ... | head`: the reader has gone; nothing to say.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _failure(exc: NidaaError) -> tuple[ExitCode, str]:
    """The exit code and message of an error (one place for every command)."""
    if isinstance(exc, ConfigError):
        return ExitCode.CONFIG, str(exc)
    if isinstance(exc, UsageError):
        return ExitCode.USAGE, str(exc)
    if isinstance(exc, AuthError):
        return ExitCode.DENIED, str(exc)
    if isinstance(exc, BusError):
        return ExitCode.UNREACHABLE, str(exc)
    if isinstance(exc, QueueError):
        return ExitCode.REFUSED, f"refused: {exc.message} ({exc.code})"
    if isinstance(exc, HardwareError):
        return ExitCode.HARDWARE, str(exc)
    return ExitCode.ERROR, str(exc)


def main() -> None:
    code = run()
    if code == 130:
        # Interrupted, and everything it started is stopped by now.  End here:
        # after a KeyboardInterrupt that was handled, CPython 3.11 sometimes
        # still ends the process by re-raising SIGINT at exit (status -2
        # instead of 130; seen on a loaded machine), which tells the caller
        # the clean-up never ran.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)
