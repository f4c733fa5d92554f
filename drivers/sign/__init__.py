"""Counter LED display: one interface, a serial backend with pluggable
framers (Nidaa's NDP/1 and the vendor STX-address-text-ETX style), and a
simulated board that runs the real firmware code on a pty.

``open_display(settings)`` builds the display a configuration asks for.
"""

from __future__ import annotations

from .base import Display, DisplayError, Op, Reply
from .framing import Framer, framer_for
from .port import PortSettings, open_port
from .serial_display import SerialDisplay

__all__ = [
    "Display",
    "DisplayError",
    "Framer",
    "Op",
    "PortSettings",
    "Reply",
    "SerialDisplay",
    "framer_for",
    "open_port",
]
