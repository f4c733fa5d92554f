"""How long the engine itself takes per operation, for ``nidaa bench``.

The master's round trip is MQTT + SQLite + the engine; this measures the last
part alone on a busy day (thousands of tickets already finished, a long
queue), so a slow round trip can be told apart from a slow engine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from ...config import Branch, Counter, Policy, Service
from ...queue.engine import QueueEngine

_START = 1_796_022_000.0  # a Monday morning in Cairo; any moment would do


def _busy_engine(finished: int, waiting: int) -> tuple[QueueEngine, float]:
    services = [
        Service(id=sid, prefix=p, name_ar=sid)
        for sid, p in (("building", "A"), ("vehicles", "B"), ("civil", "C"), ("pay", "D"))
    ]
    counters = [
        Counter(id=f"w{i}", number=i, services=[s.id for s in services[: 1 + i % 4]])
        for i in range(1, 6)
    ]
    counters.append(Counter(id="w6", number=6, services=[s.id for s in services], priority=True))
    branch = Branch(id="bench", name_ar="bench")
    engine = QueueEngine(branch, services, counters, Policy(others="ratio"))
    now = _START
    for i in range(finished + waiting):
        now += 1.0
        engine.issue(services[i % 4].id, i % 9 == 0, now)
        if i < finished:
            engine.call_next(counters[i % 6].id, now)
    engine.take_changes()
    return engine, now


def _median_us(op: Callable[[int], object], n: int) -> float:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        op(i)
        samples.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(samples)


def bench_queue(finished: int = 3000, waiting: int = 300, n: int = 300) -> dict[str, float]:
    """Median microseconds per engine operation on a busy day."""
    engine, now = _busy_engine(finished, waiting)
    ids = list(engine.counters)
    return {
        "engine_issue_us": _median_us(lambda i: engine.issue("A", False, now + 1 + i * 0.001), n),
        "engine_call_next_us": _median_us(
            lambda i: engine.call_next(ids[i % len(ids)], now + 2 + i * 0.001), n
        ),
        "engine_estimate_us": _median_us(lambda i: engine.estimate("A", i % 2 == 0), n),
        "engine_take_changes_us": _median_us(lambda i: engine.take_changes(), n),
    }


if __name__ == "__main__":  # pragma: no cover - manual run
    import json

    print(json.dumps(bench_queue(), indent=2))
