"""The example branch shipped with Nidaa (``nidaa config example`` prints it).

A complete, valid branch file for a municipal technology centre: the start
of a real branch's file, and the branch the demo, the benchmark and the
tests run.  It is package data, so an installed Nidaa has it too.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLE_PATH = Path(__file__).with_name("branch.example.toml")


def example_text() -> str:
    return EXAMPLE_PATH.read_text(encoding="utf-8")
