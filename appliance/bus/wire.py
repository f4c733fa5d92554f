"""paho-mqtt details the bus client needs: socket options, MQTT v5
properties, and paho's messages turned into :class:`Message`."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties, VariableByteIntegers, writeBytes

from .message import Message


def no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Send small commands at once instead of waiting for delayed ACKs
    (Nagle's algorithm adds tens of milliseconds to every request)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]


class ReplyProperties:
    """A reply's one MQTT v5 property, its CorrelationData, packed by hand.

    paho's :class:`Properties` builds its lookup tables anew for every object
    and sets each property through them: 29 µs a reply with its pack, on the
    master's path for every command; this takes about 1 µs.  paho only ever
    calls a publish's ``properties.pack()`` (again when it resends the
    message after a reconnect).  The bytes are MQTT 5.0's (§2.2.2.2),
    built with paho's own encoders: the properties' length, then identifier
    9 and the binary data; a test holds them equal to paho's for every length.
    """

    __slots__ = ("_packed",)

    def __init__(self, correlation: bytes) -> None:
        if len(correlation) > 0xFFFF:
            raise ValueError("correlation data over 65,535 bytes")
        body = b"\x09" + writeBytes(correlation)  # type: ignore[no-untyped-call]
        self._packed: bytes = VariableByteIntegers.encode(len(body)) + body  # type: ignore[no-untyped-call]

    def pack(self) -> bytes:
        return self._packed


@dataclass
class Pending:
    """A request waiting for its answer."""

    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] | None = None
    denied: str = ""  #: the broker's PUBACK refused the request (MQTT v5 reason)


def wrap(msg: mqtt.MQTTMessage) -> Message:
    """A paho message as the :class:`Message` handlers get."""
    props = getattr(msg, "properties", None)
    response_topic = getattr(props, "ResponseTopic", None) if props else None
    correlation = getattr(props, "CorrelationData", None) if props else None
    return Message(
        topic=msg.topic,
        payload=bytes(msg.payload),
        retain=bool(msg.retain),
        response_topic=response_topic,
        correlation=correlation,
    )
