"""`nidaa central-user NAME`: an account of the central dashboard, as the
``[[dashboard.users]]`` table to paste into ``central.toml``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..central.web.accounts import hash_password
from ..config.core import ID
from ..errors import UsageError
from .env import Environment, ExitCode

#: Shorter passwords are refused: the dashboard may face a LAN.
MIN_PASSWORD = 12


def register(sub: Any) -> None:
    p = sub.add_parser(
        "central-user",
        help="an account of the central dashboard: its salted hash for central.toml",
        description="Reads the password (twice at a terminal, one line from standard input "
        "otherwise) and prints the [[dashboard.users]] table holding its salted scrypt hash; "
        "the password itself is never written anywhere.",
    )
    p.add_argument("name", help="login name (lower-case letters, digits, - and _)")
    p.set_defaults(func=run)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace, env: Environment) -> int:
    import re

    if not re.fullmatch(ID, args.name):
        raise UsageError(f"not a login name: {args.name!r} (a-z, 0-9, - and _, up to 32)")
    password = _read_password()
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password needs at least {MIN_PASSWORD} characters")
    env.out(f'[[dashboard.users]]\nname = "{args.name}"\npassword_hash = "{hash_password(password)}"')
    return ExitCode.OK
