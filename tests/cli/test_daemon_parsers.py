"""A daemon's process builds only its own command's parser: the same
options as in the whole parser, without importing other commands' libraries
(the central store's, the dashboard's, the simulator's): on a Pi Zero they
were a third of the hall display's memory."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from appliance.cli.main import DAEMON_MODULES, _command, build_parser
from tests.support import REPO

#: Never loaded by a daemon's command line.
HEAVY = ("aiohttp", "psycopg", "appliance.central", "appliance.sim")


def _sub(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = action.choices[command]
    assert isinstance(found, argparse.ArgumentParser)
    return found


def _shape(parser: argparse.ArgumentParser) -> list[tuple[object, ...]]:
    """Every option and argument, with nested commands' own."""
    out: list[tuple[object, ...]] = []
    for a in parser._actions:
        out.append((type(a).__name__, tuple(a.option_strings), a.dest, repr(a.default), a.nargs))
        if isinstance(a, argparse._SubParsersAction):
            for name, child in sorted(a.choices.items()):
                out.append(("command", name, tuple(_shape(child))))
    return out


@pytest.mark.parametrize("command", sorted(DAEMON_MODULES))
def test_a_daemons_parser_is_the_whole_parsers(command: str) -> None:
    whole, own = build_parser(), build_parser(command)
    assert _shape(_sub(own, command)) == _shape(_sub(whole, command))
    assert _sub(own, command).format_help() == _sub(whole, command).format_help()


@pytest.mark.parametrize("command", sorted(DAEMON_MODULES))
def test_a_daemons_command_line_loads_no_other_commands_libraries(command: str) -> None:
    code = (
        "import sys\n"
        "from appliance.cli.main import build_parser\n"
        f"build_parser({command!r}).parse_known_args([{command!r}])\n"
        f"heavy = [m for m in sys.modules if m.startswith({HEAVY!r})]\n"
        "print(len(heavy), sorted(heavy)[:5])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.startswith("0 "), done.stdout
    # The whole parser does load them: the check above can fail.
    whole = code.replace(f"build_parser({command!r})", "build_parser()")
    done = subprocess.run([sys.executable, "-c", whole], cwd=REPO, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert not done.stdout.startswith("0 "), done.stdout


def test_the_command_word_is_the_first_that_is_not_an_option() -> None:
    assert _command(["-v", "display", "--headless"]) == "display"
    assert _command(["--version"]) is None
    assert _command(["ticket", "issue", "A"]) == "ticket"
