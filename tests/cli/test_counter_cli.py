"""`nidaa counter` as a real process."""

from __future__ import annotations

import io
from pathlib import Path

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import Daemon
from tests.support import EXAMPLE_CONFIG, Watcher, running_branch
from tests.support.counter import LAST_COUNTER, units_toml


def test_counter_process_comes_online_and_says_goodbye(broker: Mosquitto, tmp_path: Path) -> None:
    replace = {LAST_COUNTER: LAST_COUNTER + units_toml("timeout_ms = 500")}
    with running_branch(tmp_path, broker.url, replace=replace) as b:
        status = b.config_topics().status("counter", "cu-w2")
        watch = Watcher(b.config, status)
        args = ["counter", "--config", str(b.config_path), "--unit", "cu-w2"]
        with Daemon(args, tmp_path / "counter.log") as proc:
            up = watch.wait_for(lambda m: m.topic == status and m.json()["state"] == "online")
            assert up.json()["counter"] == "w2"
            assert up.json()["display"] == "nidaa@1 on simulated"
            assert proc.stop() == 0, proc.log()
        watch.wait_for(lambda m: m.topic == status and m.json()["state"] == "offline")
        watch.close()


def test_unknown_unit_is_a_configuration_error(tmp_path: Path) -> None:
    example = EXAMPLE_CONFIG
    err = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=err)
    code = run(["counter", "--config", str(example), "--unit", "nope"], env)
    assert code == ExitCode.CONFIG
    assert "no counter unit 'nope'" in err.getvalue()
