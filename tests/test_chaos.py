"""A short chaos run: faults injected while citizens press and clerks call."""

from __future__ import annotations

from pathlib import Path

from appliance.cli.demo_cmd import MUST_BE_ZERO
from appliance.demo.chaos import ChaosOptions, run_chaos
from tests.helpers import write_config


def test_short_chaos_run_holds_every_invariant(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mqtt://127.0.0.1:1")  # the run starts its own broker
    lines: list[str] = []
    result = run_chaos(
        ChaosOptions(config=config, out=tmp_path / "chaos", seconds=20, seed=3, fault_every_s=2.5),
        log=lines.append,
    )
    assert result["presses"] > 20 and result["tickets_issued"] > 20
    assert result["calls"] > 10
    faults = result["faults_injected"]
    assert faults.get("kill9_master", 0) >= 1, faults
    assert faults.get("broker_restart", 0) >= 1, faults
    assert any(k.startswith("sigstop_") for k in faults), faults
    broken = {k: result[k] for k in MUST_BE_ZERO if result[k]}
    assert not broken, f"invariants broken: {broken}\n{lines}"
