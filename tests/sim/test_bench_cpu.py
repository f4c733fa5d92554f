"""CPU time per unit of work for `nidaa bench`: real processes, real work."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

from appliance.sim.bench.cpu import bench_hall_process, bench_kiosk_process, process_cpu_ms
from appliance.sim.bench.run import BenchContext
from tests.support import running_branch


def test_process_cpu_counts_every_thread() -> None:
    import threading

    def spin() -> None:
        deadline = process_cpu_ms(os.getpid()) + 30
        while process_cpu_ms(os.getpid()) < deadline:
            sum(range(1000))

    before = process_cpu_ms(os.getpid())
    worker = threading.Thread(target=spin)
    worker.start()
    worker.join()
    assert process_cpu_ms(os.getpid()) - before >= 30


@pytest.mark.slow
def test_kiosk_and_hall_processes_report_cpu_per_ticket_and_memory(
    tmp_path: Path, broker: Any
) -> None:
    with running_branch(tmp_path, broker.url) as branch:
        ctx = BenchContext(branch.config, branch.config_path, broker.url, tmp_path, samples=10)
        result = bench_kiosk_process(ctx, tickets=4)
        result.update(bench_hall_process(ctx, calls=12))
    assert set(result) == {
        "cpu_ms_per_ticket_kiosk",
        "rss_mb_kiosk",
        "cpu_ms_per_ticket_hall",
        "rss_mb_display",
    }
    assert all(math.isfinite(v) and v > 0 for v in result.values())
    # Each press printed one ticket, each call was drawn (else the hooks raise).
    assert (tmp_path / "kiosk-cpu.log").read_text().count("printed ticket") == 4
    assert len((tmp_path / "hall-cpu-calls.jsonl").read_text().splitlines()) >= 12
