"""`nidaa bench --central`, short: one step of busy branches through a real
central Mosquitto, the `nidaa central` process and a private PostgreSQL;
every change arrives and each step has its lag figures (the speed itself is
the bench's figure, never asserted here)."""

from __future__ import annotations

from pathlib import Path

from appliance.sim.central.bench import run_central_bench
from tests.support.procs import processes_mentioning


def test_a_short_step_measures_every_change(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_central_bench(tmp_path, steps=(12,), step_s=6.0, log=lines.append)
    steps = result["central_steps"]
    assert [s["branches"] for s in steps] == [12]
    for s in steps:
        assert s["changes"] > 0 and s["received"] == s["changes"], s
        assert s["lag_p50_s"] is not None and s["lag_p99_s"] is not None
        assert s["lag_p50_s"] <= s["lag_p99_s"]
    kept = [s["branches"] for s in steps if s["kept_up"]]
    assert result["central_branches_kept_up"] == (max(kept) if kept else 0)
    assert result["central_lag_goal_s"] == 2.0 and lines[0] == "12 branches for 6 s"
    assert not processes_mentioning(str(tmp_path))  # the consumer was stopped
