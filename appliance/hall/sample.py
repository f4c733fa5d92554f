"""Sample hall data: for ``nidaa display --screenshot`` and the benchmark."""

from __future__ import annotations

import time

from ..config.branch import Config
from .state import Call, HallSnapshot, ServiceInfo


def sample_snapshot(cfg: Config, *, flashing: bool = False) -> HallSnapshot:
    """A busy hall: a current call, earlier calls, people waiting everywhere."""
    windows = [c.number for c in cfg.counters] or [1]
    prefixes = [s.prefix for s in cfg.services] or ["A"]
    received = time.monotonic() if flashing else 0.0
    calls = []
    for i in range(8):
        prefix = prefixes[i % len(prefixes)]
        calls.append(
            Call(
                ticket=f"{prefix}{123 - i * 7:03d}",
                window=windows[(i * 3 + 3) % len(windows)],
                received=received if i == 0 else 0.0,
                fresh=flashing and i == 0,
            )
        )
    services = tuple(
        ServiceInfo(
            s.id,
            s.prefix,
            s.name_ar,
            waiting=3 + 4 * i,
            waiting_priority=i % 2,
            estimate_minutes=s.service_minutes * (3 + 4 * i) / 2,
            open_counters=2,
        )
        for i, s in enumerate(cfg.services)
    )
    return HallSnapshot(calls=tuple(calls), services=services, master_online=True, version=1)
