"""A simulated display board: the real firmware code on the far end of a pty.

:class:`SimulatedBoard` opens a pty pair, runs ``firmware/``'s own
``display_app``, ``node``, ``panel`` and ``max7219`` modules against the
stand-ins of ``firmware/sim.py`` on the master end, and offers the slave
end's path as a serial port.  The host then talks to it with the ordinary
:class:`~.serial_display.SerialDisplay`, so tests and ``nidaa demo`` send
real bytes through a real tty.  It records the MAX7219 registers and the
bytes both ways, and can misbehave on request (fall silent, garble frames,
hang up) to exercise the host's retries and fault reports.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import sys
import threading
import time
import tty
import types
from pathlib import Path
from typing import Any

from .base import DisplayError
from .nidaa import NidaaFramer
from .port import PortSettings
from .serial_display import SerialDisplay


def firmware_dir() -> Path:
    """Where the firmware sources are: ``$NIDAA_FIRMWARE``, the installed
    package's copy, or the source tree's ``firmware/``."""
    env = os.environ.get("NIDAA_FIRMWARE")
    installed = Path(__file__).resolve().parent / "firmware"
    if env:
        path = Path(env)
    elif (installed / "node.py").is_file():
        path = installed
    else:
        path = Path(__file__).resolve().parents[2] / "firmware"
    if not (path / "node.py").is_file():
        raise DisplayError(
            "port_missing",
            f"the simulated display needs the firmware sources, not found in {path} "
            "(set NIDAA_FIRMWARE to the firmware/ folder)",
        )
    return path


def load_firmware() -> dict[str, types.ModuleType]:
    """The firmware modules, imported as the board would (flat names)."""
    path = firmware_dir()
    if str(path) not in sys.path:
        sys.path.append(str(path))
    names = ("board", "display_app", "ndp", "segfont", "sim")
    modules = {name: importlib.import_module(name) for name in names}
    for name, module in modules.items():
        # The board's flat module names are plain words: make sure no other
        # installed module of the same name was picked up instead.
        if Path(module.__file__ or "").resolve().parent != path.resolve():
            raise DisplayError(
                "port_missing", f"module {name!r} from {module.__file__} shadows the firmware's"
            )
    return modules


class SimulatedBoard:
    """One display board on a pty.  Use as a context manager or call
    :meth:`start` / :meth:`stop`."""

    def __init__(
        self, address: int = 1, digits: int = 8, record_file: str | Path | None = None
    ) -> None:
        fw = load_firmware()
        #: Every text the digits took, as JSON lines (survives the host's kill -9).
        self.record_file = Path(record_file) if record_file else None
        self._recorded: str | None = None
        self._fw = fw
        self.address = address
        self.digits = digits
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        cfg = types.SimpleNamespace(
            **{k: getattr(fw["board"], k) for k in dir(fw["board"]) if k.isupper()}
        )
        cfg.ADDRESS, cfg.DIGITS = address, digits
        self.bench = fw["sim"].Bench(cs_pin=cfg.PIN_CS)
        self._t0 = time.monotonic()
        self.device = fw["display_app"].build(self.bench.machine, cfg, self._ticks_ms)
        self.received = bytearray()  # every byte from the host
        self.sent = bytearray()  # every byte to the host
        self.silent = False  # swallow everything: a display switched off
        self._garble = 0  # frames still to corrupt on the way in
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _ticks_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)

    # -- life ---------------------------------------------------------------
    def start(self) -> SimulatedBoard:
        name = f"display-{self.address}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1

    def hang_up(self) -> None:
        """Pull the cable: the tty disappears under the host."""
        self.stop()

    def __enter__(self) -> SimulatedBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- misbehaviour -------------------------------------------------------
    def garble(self, frames: int) -> None:
        """Flip a bit in the checksum of the next ``frames`` frames from the host."""
        with self._cond:
            self._garble = frames

    # -- what it shows --------------------------------------------------------
    @property
    def chip(self) -> Any:
        return self.bench.chip

    def text(self) -> str:
        with self._cond:
            return str(self.bench.chip.text(self.digits))

    def lit(self) -> bool:
        with self._cond:
            return bool(self.bench.chip.lit)

    def wait_for(self, text: str, timeout: float = 15.0) -> bool:
        """Wait until the digits show ``text``; False after ``timeout`` seconds."""
        with self._cond:
            return bool(
                self._cond.wait_for(
                    lambda: self.bench.chip.text(self.digits) == text, timeout=timeout
                )
            )

    def replies(self) -> list[Any]:
        """Every reply the board sent, decoded with the firmware's parser."""
        with self._cond:
            return list(self._fw["ndp"].Parser().feed(bytes(self.sent)))

    # -- the board's loop -----------------------------------------------------
    def _run(self) -> None:
        uart = self.device.uart
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
                chunk = os.read(self._master, 4096) if ready else b""
            except (OSError, ValueError):
                return  # closed
            with self._cond:
                self.received += chunk
                if self.silent:
                    chunk = b""
                elif chunk and self._garble:
                    chunk = self._corrupt(chunk)
                uart.rx.extend(chunk)
                self.device.step(self._ticks_ms())
                out = bytes(uart.tx)
                uart.tx.clear()
                self.sent += out
                if chunk and self.record_file is not None:
                    self._record(str(self.bench.chip.text(self.digits)))
                self._cond.notify_all()
            if out:
                try:
                    os.write(self._master, out)
                except OSError:
                    return

    def _record(self, text: str) -> None:
        if text == self._recorded or self.record_file is None:
            return
        self._recorded = text
        line = json.dumps({"t": time.time(), "text": text}, ensure_ascii=False)
        with self.record_file.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def _corrupt(self, chunk: bytes) -> bytes:
        data = bytearray(chunk)
        for i in range(1, len(data)):
            if data[i] == 0x03 and self._garble:  # the byte before ETX is (part of) the CRC
                for mask in (0x01, 0x04, 0x08):
                    if data[i - 1] ^ mask not in (0x02, 0x03, 0x10):
                        data[i - 1] ^= mask
                        break
                self._garble -= 1
        return bytes(data)


class SimulatedDisplay(SerialDisplay):
    """The ``simulated`` backend: a :class:`SimulatedBoard` of its own, talked
    to through the ordinary serial code over its pty."""

    def __init__(
        self,
        address: int = 1,
        digits: int = 8,
        *,
        timeout: float = 0.15,
        retries: int = 3,
        record_file: str | Path | None = None,
    ) -> None:
        self.board = SimulatedBoard(address, digits, record_file).start()
        super().__init__(
            PortSettings(self.board.port), NidaaFramer(), address, timeout=timeout, retries=retries
        )

    def close(self) -> None:
        super().close()
        self.board.stop()
