"""The waiting estimate shown on tickets and screens (formula in docs/queue.md).

    minutes = people_ahead × mean_service_minutes ÷ max(1, counters)

``mean_service_minutes`` is the mean of the service's recent service times
(call answered → done), or the configured ``Service.service_minutes`` until
one is known.  ``counters`` is the number of open, unpaused counters serving
the service; when none is open, the number configured to serve it, so that a
ticket taken before the first call of the morning still gets a fair figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Estimate


def mean_service_minutes(samples: Sequence[float], configured_minutes: float) -> float:
    """Mean of recent service times (seconds) in minutes, or the configured figure."""
    if not samples:
        return configured_minutes
    return sum(samples) / len(samples) / 60.0


def estimate(
    people_ahead: int,
    samples: Sequence[float],
    configured_minutes: float,
    open_counters: int,
    configured_counters: int,
) -> Estimate:
    """Apply the formula; ``minutes`` is None only when no counter serves the service."""
    if configured_counters == 0:
        return Estimate(people_ahead, None)
    counters = open_counters if open_counters > 0 else configured_counters
    mean = mean_service_minutes(samples, configured_minutes)
    return Estimate(people_ahead, people_ahead * mean / max(1, counters))
