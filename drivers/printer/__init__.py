"""Ticket printers (ESC/POS thermal).

One interface, :class:`Printer`: ``status()`` (ready, paper out, cover open,
offline, unknown — with a reason) and ``print_ticket(image)``.  One module per
backend: ``usb``, ``serial``, ``network``, ``file`` and ``simulated`` (in
memory; records the exact bytes).  :func:`open_printer` picks one by name, so
the configuration chooses, and imports only the backend it needs.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import EscposPrinter, Printer, PrintError
from .job import (
    PROFILE_FOR_WIDTH_MM,
    decode_raster,
    ink_rows,
    load_profile,
    paper_length_mm,
    paper_width_px,
    raster_blocks,
    raster_job,
    ticket_job,
)
from .status import PrinterState, PrinterStatus, decode_status

BACKENDS = {
    "usb": ("usb", "UsbPrinter"),
    "serial": ("serial", "SerialPrinter"),
    "network": ("network", "NetworkPrinter"),
    "file": ("file", "FilePrinter"),
    "simulated": ("simulated", "SimulatedPrinter"),
}

__all__ = [
    "BACKENDS",
    "PROFILE_FOR_WIDTH_MM",
    "EscposPrinter",
    "PrintError",
    "Printer",
    "PrinterState",
    "PrinterStatus",
    "decode_raster",
    "decode_status",
    "ink_rows",
    "load_profile",
    "open_printer",
    "paper_length_mm",
    "paper_width_px",
    "raster_blocks",
    "raster_job",
    "ticket_job",
]


def open_printer(backend: str, **options: Any) -> Printer:
    """Build the printer of ``backend`` with its options (see each module)."""
    try:
        module_name, class_name = BACKENDS[backend]
    except KeyError:
        raise ValueError(
            f"unknown printer backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        ) from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    printer: Printer = getattr(module, class_name)(**options)
    return printer
