"""What travels on the bus: messages as handlers receive them, JSON payloads
and the ids senders choose for their commands."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def new_command_id(unit: str) -> str:
    """A command id chosen by the sender: reuse it on every retry of one press."""
    return f"{unit}-{uuid.uuid4().hex[:16]}"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Message:
    """A message as a handler receives it."""

    topic: str
    payload: bytes
    retain: bool = False
    response_topic: str | None = None
    correlation: bytes | None = None
    #: With ``subscribe(..., defer_ack=True)``: call once the message's effect
    #: is safe (the broker redelivers it to a persistent session until then).
    ack: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object; ``ValueError`` if it is not one."""
        try:
            value = json.loads(self.payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"payload is not JSON: {exc}") from None
        except RecursionError:
            raise ValueError("payload is nested too deeply") from None
        if not isinstance(value, dict):
            raise ValueError("payload must be a JSON object")
        return value


def encode(payload: Mapping[str, Any] | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
