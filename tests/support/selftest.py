"""Self-test fixtures: a branch file whose units point at simulated devices."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appliance.cli.env import Environment
from appliance.cli.main import run
from tests.support import write_config

# The example's device lines, each replaced by a test's own.
PRINTER = '[kiosks.printer]\nbackend = "usb"'
PRINTER_END = "\n[kiosks.ticket]"
COUNTER_DISPLAY = 'display = { port = "/dev/serial/by-id/usb-FTDI_USB_RS485-if00-port0", address = 1, digits = 4 }'
HALL_AUDIO = 'audio = "pygame"            # "none": screen only'
MODEM = 'modem = "/dev/ttyUSB2"     # or "sim": the simulated modem (demo, tests)'


def branch(
    tmp_path: Path,
    *,
    printer: str = 'backend = "simulated"',
    display: str = "",
    audio: str = 'audio = "record"\nrecord_dir = "REC"',
    modem: str = "sim",
) -> Path:
    """The example branch with its devices replaced (``display`` is the inline
    table of counter-w1's LED display, e.g. ``port = "/dev/pts/3"``)."""
    text_path = write_config(tmp_path, "mqtt://127.0.0.1:1")
    text = text_path.read_text(encoding="utf-8")
    start = text.index(PRINTER)
    end = text.index(PRINTER_END, start)
    text = text[:start] + f"[kiosks.printer]\n{printer}\n" + text[end:]
    if display:
        text = text.replace(COUNTER_DISPLAY, f"display = {{ {display} }}")
    text = text.replace(HALL_AUDIO, audio.replace("REC", str(tmp_path / "rec")))
    text = text.replace(MODEM, f'modem = "{modem}"\nmodem_timeout_s = 0.5\nsend_timeout_s = 2')
    text_path.write_text(text, encoding="utf-8")
    return text_path


class Lines(io.StringIO):
    """stdout that lets a test wait for a line the command printed."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()

    def write(self, s: str) -> int:
        with self._cond:
            n = super().write(s)
            self._cond.notify_all()
            return n

    def wait_for(self, needle: str, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: needle in self.getvalue(), timeout)


def nidaa(
    *argv: str, environ: Mapping[str, str] | None = None, stdout: io.StringIO | None = None
) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ=dict(environ or {}))
    code = run(list(argv), env)
    return code, out.getvalue(), err.getvalue()


def nidaa_json(*argv: str, environ: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    code, out, _ = nidaa(*argv, "--json", environ=environ)
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"--json must print exactly one line, got {out!r}"
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    return code, obj


def assert_shape(obj: dict[str, Any], device: str) -> None:
    """Every self-test's JSON object has the same keys and types."""
    assert set(obj) == {"device", "unit", "ok", "verdict", "steps", "checks", "warnings", "details"}
    assert obj["device"] == device
    assert isinstance(obj["ok"], bool) and isinstance(obj["unit"], str)
    assert obj["verdict"].startswith("PASS " if obj["ok"] else "FAIL ")
    assert obj["steps"], "a test reports what it tried"
    for step in obj["steps"]:
        assert set(step) == {"step", "ok", "detail"}
    assert all(isinstance(c, str) and c for c in obj["checks"])
    assert obj["ok"] == all(s["ok"] for s in obj["steps"])
    if not obj["ok"]:
        assert obj["checks"], "a failure says what to check"
