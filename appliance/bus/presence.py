"""A unit's retained health on its status topic: online or offline, its
faults, and details of its own (``nidaa status`` shows them)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .. import __version__
from .message import utc_now_iso

if TYPE_CHECKING:
    from ..config.branch import Config
    from .topics import Topics


class Presence:
    """What a unit last said of itself, to publish again after a reconnect."""

    def __init__(self, role: str, unit: str) -> None:
        self.role = role
        self.unit = unit
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": "online", "faults": []}

    def set(self, state: str, faults: list[dict[str, str]] | None, details: dict[str, Any]) -> None:
        with self._lock:
            self._status = {**details, "state": state, "faults": list(faults or [])}

    def payload(self, offline: bool = False) -> dict[str, Any]:
        """The status to publish now; ``offline``: the goodbye (and Last Will),
        which keeps the details but carries no faults."""
        with self._lock:
            status = dict(self._status)
        state = "offline" if offline else str(status["state"])
        faults = [] if offline else list(status["faults"])
        payload = {k: v for k, v in status.items() if k not in ("state", "faults")}
        payload.update(
            role=self.role,
            unit=self.unit,
            state=state,
            version=__version__,
            faults=faults,
            ts=utc_now_iso(),
        )
        return payload


class MasterWatch:
    """Whether the branch has an active master, from the masters' status topics.

    One master: its status says ``online``.  With a standby (``[ha]``) any
    candidate may be the active one (``online``); the others say ``standby``.
    """

    def __init__(self, units: list[str]) -> None:
        self.units = list(units)
        self._online: dict[str, bool] = {}

    @classmethod
    def of(cls, config: Config) -> MasterWatch:
        return cls(config.ha.candidates if config.ha is not None else [config.master.unit])

    def topics(self, topics: Topics) -> list[str]:
        return [topics.status("master", unit) for unit in self.units]

    def update(self, unit: str, state: str | None) -> bool:
        """Record one master's state (None: no status); whether one is active now."""
        self._online[unit] = state == "online"
        return any(self._online.values())
