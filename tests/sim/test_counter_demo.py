"""The demo hook: real counter daemons on simulated buttons and displays."""

from __future__ import annotations

import time
import types
from pathlib import Path

from appliance.clock import ScaledClock
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from appliance.sim.roles.counter import CounterFleet
from tests.support import running_branch


def test_simulated_clerks_press_and_displays_follow(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        for _ in range(3):
            b.issue("B")  # served at w3 and w4
        ctx = types.SimpleNamespace(
            config=b.config,
            broker_url=broker.url,
            clock=ScaledClock(time.time(), 600.0),
            out=tmp_path,
            options=types.SimpleNamespace(seed=1),
        )
        fleet = CounterFleet(ctx, clerks=True, no_show_share=0.0)
        try:
            assert wait_until(
                lambda: (
                    sum(d.answered for d in fleet.daemons) >= 6
                    and all(t in fleet.texts().values() for t in ("B001", "B002"))
                ),
                20,
            ), fleet.texts()
        finally:
            fleet.stop()
        log = (tmp_path / "counter-displays.log").read_text()
        assert ": B001" in log and ": B002" in log
        assert sorted(fleet.texts()) == sorted(c.id for c in b.config.counters)
