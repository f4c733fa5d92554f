"""What a CLI command runs in: streams and environment, replaceable in tests."""

from __future__ import annotations

import enum
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO


class ExitCode(enum.IntEnum):
    """Exit codes of every `nidaa` command (documented in README.md)."""

    OK = 0
    ERROR = 1  #: an unexpected failure; the message says what
    USAGE = 2  #: bad command line (argparse's own code)
    CONFIG = 3  #: the configuration file does not validate
    UNREACHABLE = 4  #: broker or master did not answer in time
    REFUSED = 5  #: the master answered with an error (unknown service, paused counter...)
    HARDWARE = 6  #: a device is missing, busy or failed its self-test
    DENIED = 7  #: the broker refused the credential, its client id or the command's topic
    NO_DATA = 8  #: `nidaa report`: the database holds no ticket of that day


@dataclass
class Environment:
    """Streams and environment variables a command uses."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        print(f"nidaa: {text}", file=self.stderr, flush=True)

    def json(self, obj: Any) -> None:
        print(json.dumps(obj, ensure_ascii=False, sort_keys=True), file=self.stdout, flush=True)
