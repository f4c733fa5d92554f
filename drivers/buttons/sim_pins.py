"""Simulated GPIO that another process drives: mock pins behind a Unix socket.

gpiozero's MockFactory only lets the process that owns it press a button.
To run a kiosk or a counter as a real process (``nidaa demo --chaos``), the
unit takes this factory instead (``GPIOZERO_PIN_FACTORY=sim``, or
``pin_factory = "sim"``) with its run directory in ``NIDAA_SIM_PINS``:

* ``<dir>/pins.sock`` accepts one command per line: ``press PIN [HOLD_MS]``
  pulls the input pin low for HOLD_MS (default 100) and releases it, then
  answers ``ok``; by then the unit's button handler has run, so ``ok`` means
  the unit has the press (a pin no button listens to yet is answered
  ``err``: the unit is still starting).  ``state PIN`` answers ``1`` or ``0``.  Anything
  else is answered ``err <why>``; the unit goes on.
* ``<dir>/pins.jsonl`` gets one JSON line per change of an output pin (LED,
  buzzer) and per press: ``{"t", "pid", "pin", "state"}``.  Each line is
  written before the call returns, so the record survives a ``kill -9``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from ...errors import HardwareError

log = logging.getLogger(__name__)

ENV = "NIDAA_SIM_PINS"
SOCKET = "pins.sock"
JOURNAL = "pins.jsonl"
MAX_LINE = 128


class _JournalledPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    def _change_state(self, value: bool) -> bool:
        changed = bool(super()._change_state(value))
        if changed and self._function == "output":
            factory = self.factory
            if isinstance(factory, SimPinFactory):
                factory.journal(str(self.info.name), int(value))
        return changed


class SimPinFactory(MockFactory):  # type: ignore[misc]  # gpiozero is untyped
    """A MockFactory whose buttons are pressed through ``<run_dir>/pins.sock``."""

    def __init__(self, run_dir: str | Path | None = None) -> None:
        folder = run_dir or os.environ.get(ENV, "")
        if not folder:
            raise HardwareError(f"the 'sim' pin factory needs {ENV}: the unit's run directory")
        super().__init__(pin_class=_JournalledPin)
        self.run_dir = Path(folder)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._journal_lock = threading.Lock()
        self._journal = (self.run_dir / JOURNAL).open("a", encoding="utf-8")
        path = self.run_dir / SOCKET
        path.unlink(missing_ok=True)  # left behind by a unit that was killed
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(16)
        self._closed = False
        threading.Thread(target=self._accept, name="sim-pins", daemon=True).start()

    def journal(self, pin: str, state: int) -> None:
        line = json.dumps({"t": time.time(), "pid": os.getpid(), "pin": pin, "state": state})
        with self._journal_lock:
            self._journal.write(line + "\n")
            self._journal.flush()  # in the kernel's hands: a kill -9 keeps it

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            for raw in stream:
                stream.write((self.command(raw[:MAX_LINE]) + "\n").encode())
                stream.flush()

    def command(self, raw: bytes) -> str:
        """Do one control command; never raises (a bad line is answered)."""
        try:
            words = raw.decode("ascii").split()
            if len(words) in (2, 3) and words[0] == "press":
                hold = int(words[2]) if len(words) == 3 else 100
                if not 0 <= hold <= 60_000:
                    return "err hold out of range"
                self.press(int(words[1]), hold / 1000)
                return "ok"
            if len(words) == 2 and words[0] == "state":
                return str(int(self.pin(int(words[1])).state))
            return "err unknown command"
        except (ValueError, UnicodeDecodeError) as exc:
            return f"err {exc}"[:MAX_LINE]
        except Exception as exc:  # a bad pin, or the unit's handler failed: answer, go on
            log.exception("sim pins: %r failed", raw)
            return f"err {type(exc).__name__}: {exc}"[:MAX_LINE]

    def press(self, pin: int, hold: float) -> None:
        mock = self.pin(pin)
        device = getattr(mock.when_changed, "__self__", None)
        ready = device is not None and all(
            getattr(device, name, None) is not None
            for name in ("when_activated", "when_deactivated")
        )
        if mock.function != "input" or not ready:
            # Nothing listens yet (the unit is still starting) or it is an
            # output: no "ok", or the caller would count a press nobody saw.
            raise ValueError(f"no button ready on GPIO{pin}")
        self.journal(f"GPIO{pin}", -1)  # -1: a press came in from outside
        try:
            mock.drive_low()
            time.sleep(hold)  # the contact stays closed this long (holds, debounce)
        finally:
            mock.drive_high()  # a failing handler must not leave the button held

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        (self.run_dir / SOCKET).unlink(missing_ok=True)
        with self._journal_lock:
            self._journal.close()
        super().close()


def press(run_dir: str | Path, pin: int, hold_ms: int = 100, timeout: float = 30.0) -> bool:
    """Press GPIO ``pin`` of the unit running in ``run_dir``.

    True once the unit has the press; False when no unit is there to take it
    (not running, killed before answering) — a press on a dead unit is none.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(Path(run_dir) / SOCKET))
            s.sendall(f"press {pin} {hold_ms}\n".encode())
            answer = s.makefile("rb").readline()
    except OSError:
        return False
    return answer.strip() == b"ok"


def journal(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every record of ``run_dir``'s journal (a torn last line is skipped)."""
    path = Path(run_dir) / JOURNAL
    records: list[dict[str, Any]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records
