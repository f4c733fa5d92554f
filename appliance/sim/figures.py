"""The figures the demo and the benchmark report: one percentile, one RSS."""

from __future__ import annotations

from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list, ``q`` in 0..100."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def percentile_ms(seconds: list[float], q: float, digits: int = 3) -> float:
    """:func:`percentile` of durations in seconds, in milliseconds."""
    return round(percentile(seconds, q) * 1000, digits)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (NaN if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")
