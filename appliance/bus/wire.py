"""paho-mqtt details the bus client needs: socket options, MQTT v5
properties, and paho's messages turned into :class:`Message`."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties

from .message import Message


def no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Send small commands at once instead of waiting for delayed ACKs
    (Nagle's algorithm adds tens of milliseconds to every request)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]


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
