"""How the master's state looks on the bus: tickets, counters, services."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..config.branch import Config
from ..queue import CounterState, QueueEngine, Ticket


class Views:
    def __init__(self, config: Config, engine: QueueEngine) -> None:
        self.config = config
        self.engine = engine
        self.tz = ZoneInfo(config.branch.timezone)
        self.windows = {c.id: c.number for c in config.counters}

    def when(self, ts: float | None) -> str | None:
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, self.tz).isoformat(timespec="seconds")

    def ticket(self, t: Ticket | None) -> dict[str, Any] | None:
        if t is None:
            return None
        return {
            "id": t.id,
            "number": t.label,
            "service": t.service,
            "priority": t.priority,
            "state": str(t.state),
            "issued_at": self.when(t.issued_at),
            "called_at": self.when(t.called_at),
            "finished_at": self.when(t.finished_at),
            "counter": t.counter,
            "window": self.windows.get(t.counter) if t.counter else None,
            "recalls": t.recalls,
        }

    def counter(self, cid: str) -> dict[str, Any]:
        cfg = self.config.counter(cid)
        st = self.engine.state.counters.get(cid) or CounterState(id=cid)
        current = self.engine.state.tickets.get(st.current) if st.current is not None else None
        if st.paused:
            state = "paused"
        elif current is not None:
            state = "serving"
        elif st.open:
            state = "idle"
        else:
            state = "closed"
        return {
            "counter": cid,
            "window": cfg.number,
            "state": state,
            "ticket": self.ticket(current),
            "priority_window": cfg.priority,
            "services": list(cfg.services),
        }

    def service(self, sid: str) -> dict[str, Any]:
        cfg = self.config.service(sid)
        estimate = self.engine.estimate(sid)
        return {
            "service": sid,
            "prefix": cfg.prefix,
            "name_ar": cfg.name_ar,
            "name_en": cfg.name_en,
            "waiting": self.engine.waiting_count(sid),
            "waiting_priority": self.engine.waiting_count(sid, priority_only=True),
            "estimate_minutes": None if estimate.minutes is None else round(estimate.minutes, 1),
            "open_counters": len(self.engine.open_counters(sid)),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "branch": self.config.branch.id,
            "services": [self.service(s.id) for s in self.config.services],
            "counters": [self.counter(c.id) for c in self.config.counters],
        }

    def call_event(self, t: Ticket, now: float) -> dict[str, Any]:
        return {
            "id": f"call-{t.id}-{t.recalls}",
            "ticket": t.label,
            "ticket_id": t.id,
            "service": t.service,
            "counter": t.counter,
            "window": self.windows.get(t.counter) if t.counter else None,
            "recall": t.recalls,
            "priority": t.priority,
            "at": self.when(now),
        }
