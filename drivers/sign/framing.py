"""Framers turn an :class:`Op` into the bytes of one display protocol.

A framer is pure: no port, no clock.  ``acknowledged`` tells the serial
backend whether to wait for replies; ``decoder()`` gives a fresh incremental
reply parser for one port.
"""

from __future__ import annotations

from typing import Protocol

from .base import Op, Reply


class ReplyDecoder(Protocol):
    def feed(self, chunk: bytes) -> list[Reply]: ...


class Framer(Protocol):
    name: str
    #: True when the display answers every frame with ACK or NAK.
    acknowledged: bool

    def encode(self, address: int, seq: int, op: Op) -> bytes | None:
        """The frame for ``op``, or None when the protocol has no such command."""

    def decoder(self) -> ReplyDecoder: ...


def framer_for(name: str) -> Framer:
    """The framer called ``name`` in the configuration."""
    if name == "nidaa":
        from .nidaa import NidaaFramer

        return NidaaFramer()
    if name == "vendor":
        from .vendor import VendorFramer

        return VendorFramer()
    raise ValueError(f"unknown display protocol {name!r} (known: nidaa, vendor)")
