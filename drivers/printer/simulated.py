"""The simulated printer: an in-process ESC/POS emulator behind the same code
path as the real backends (status over DLE EOT, jobs as raw bytes).

It records every job's exact bytes, can be told to run out of paper, open its
cover, go offline, answer status requests with garbage or fail in the middle
of a job, and can save each printed ticket as PNG (the virtual branch).

With an ``output_dir`` it is a printer another process can watch and upset:
tickets are numbered on from the files already there (a kiosk killed and
restarted overwrites none), and a file ``printer-state`` in the folder
holding a state name (``paper_out``, ``cover_open``, ``offline``, ``ready``)
sets the printer's state, as a hand opening the cover would.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import EscposPrinter
from .emulator import PrinterEmulator
from .job import decode_raster
from .status import PrinterState

#: In ``output_dir``: a state name the printer takes (see the module doc).
STATE_FILE = "printer-state"


class _Link:
    """What python-escpos would be: ``_raw``, ``_read``, ``close``."""

    def __init__(self, printer: SimulatedPrinter) -> None:
        self.printer = printer
        self.answers = b""

    def _raw(self, data: bytes) -> None:
        self.answers += self.printer._receive(data)

    def _read(self) -> bytes:
        answers, self.answers = self.answers, b""
        return answers

    def close(self) -> None:
        pass


class SimulatedPrinter(EscposPrinter):
    """A printer that lives in memory.

    ``output_dir``: save every completed job as ``ticket-NNNN.png`` (the
    raster read back out of the bytes) and ``ticket-NNNN.bin``.
    """

    def __init__(
        self,
        profile: str = "POS-5890",
        *,
        state: PrinterState | str = PrinterState.READY,
        output_dir: str | Path | None = None,
        on_job: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(profile)
        self.emulator = PrinterEmulator(PrinterState(state))
        self.jobs: list[bytes] = []  #: every completed job, exact bytes
        self.failed_jobs: list[bytes] = []  #: the part of each failed job that got through
        self.output_dir = Path(output_dir) if output_dir else None
        self.on_job = on_job
        self._fail_after: int | None = None
        self._fail_state: PrinterState | None = None
        self._jobs_changed = threading.Condition()
        self._saved = len(list(self.output_dir.glob("ticket-*.bin"))) if self.output_dir else 0
        self._forced: str | None = None  # the state file's content last seen

    # -- what a test or the demo can do to the printer ------------------------
    def set_state(self, state: PrinterState | str, *, paper_low: bool = False) -> None:
        self.emulator.state = PrinterState(state)
        self.emulator.paper_low = paper_low
        self.emulator.garbage = None

    def garble_status(self, answer: bytes = b"\xff\x00\xa5") -> None:
        """Answer every status request with ``answer`` (noise on the line)."""
        self.emulator.garbage = answer

    def fail_next_job(
        self, after_bytes: int = 64, then: PrinterState | str = PrinterState.PAPER_OUT
    ) -> None:
        """Let the next job stop after ``after_bytes`` and leave the printer
        in state ``then`` (the roll ran out mid-ticket)."""
        self._fail_after = after_bytes
        self._fail_state = PrinterState(then)

    def forget_jobs(self) -> None:
        """Drop the record of completed jobs and of the paper's bytes (about
        110 kB a ticket): a long run (the busy-day benchmark) measures the
        kiosk's memory, not the simulation's record.  Saved files stay."""
        with self._jobs_changed:
            self.jobs.clear()
        with self.emulator.changed:
            del self.emulator.printed[:]

    def wait_for_jobs(self, count: int, timeout: float) -> bool:
        with self._jobs_changed:
            return self._jobs_changed.wait_for(lambda: len(self.jobs) >= count, timeout)

    # -- the link -------------------------------------------------------------
    def _open(self) -> Any:
        return _Link(self)

    def _follow_state_file(self) -> None:
        if self.output_dir is None:
            return
        try:
            wanted: str | None = (self.output_dir / STATE_FILE).read_text().strip()
        except OSError:
            wanted = None
        if wanted != self._forced:
            self._forced = wanted
            with contextlib.suppress(ValueError):  # an unknown word changes nothing
                self.set_state(wanted or PrinterState.READY)

    def _receive(self, data: bytes) -> bytes:
        self._follow_state_file()
        if data.startswith(b"\x10\x04") and len(data) == 3:
            return self.emulator.feed(data)
        state = self.emulator.state
        if state is not PrinterState.READY:
            raise OSError(f"simulated printer is {state.value}")
        if self._fail_after is not None:
            cut_at, self._fail_after = self._fail_after, None
            self.emulator.feed(data[:cut_at])
            self.emulator.reset()
            if self._fail_state is not None:
                self.emulator.state = self._fail_state
            with self._jobs_changed:
                self.failed_jobs.append(data[:cut_at])
                self._jobs_changed.notify_all()
            raise OSError(f"simulated printer stopped after {cut_at} of {len(data)} bytes")
        self.emulator.feed(data)
        with self._jobs_changed:
            self.jobs.append(data)
            self._saved += 1
            number = self._saved
            self._jobs_changed.notify_all()
        self._save(number, data)
        if self.on_job is not None:
            self.on_job(data)
        return b""

    def _save(self, number: int, data: bytes) -> None:
        if self.output_dir is None:
            return
        self.output_dir.mkdir(parents=True, exist_ok=True)
        stem = self.output_dir / f"ticket-{number:04d}"
        # Written whole under another name, then renamed: a kill -9 leaves
        # either the complete job or none.
        part = stem.with_name(stem.name + ".part")
        part.write_bytes(data)
        os.replace(part, stem.with_suffix(".bin"))
        # A job without an image (a raw text test page) has no PNG.
        with contextlib.suppress(ValueError):
            decode_raster(data).save(stem.with_suffix(".png"))
