"""`nidaa demo`: a short virtual day end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from tests.support import EXAMPLE_CONFIG
from tests.support.procs import processes_mentioning


def test_a_short_virtual_day(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["demo", "--minutes", "0.2", "--arrivals", "120", "--out", str(tmp_path / "demo"),
         "--config", str(EXAMPLE_CONFIG), "--json"],
        Environment(stdout=out, stderr=err, environ={}),
    )  # fmt: skip
    assert code == ExitCode.OK, err.getvalue()
    summary = json.loads(out.getvalue())
    assert summary["tickets"] > 20
    assert summary["served"] > 0 and summary["mean_wait_min"] is not None
    assert summary["priority_tickets"] > 0
    demo = tmp_path / "demo"
    assert json.loads((demo / "summary.json").read_text())["tickets"] == summary["tickets"]
    assert (demo / "report" / "report.pdf").stat().st_size > 1000
    assert processes_mentioning(str(demo)) == [], "the demo left a process behind"




def test_ctrl_c_stops_the_demo_and_leaves_no_process(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from appliance.sim.harness.procs import wait_until

    out = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "demo", "--minutes", "5", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: len(processes_mentioning(str(out))) >= 3, 90)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
    finally:
        proc.kill()
    left = processes_mentioning(str(out))
    assert wait_until(lambda: processes_mentioning(str(out)) == [], 30), left
