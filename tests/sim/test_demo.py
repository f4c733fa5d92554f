"""`nidaa demo`: a short virtual day end to end."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import load_config
from appliance.sim.demo.run import staffing
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
    # Every ticket accounted for, twice: by its end, and by its paper.
    assert summary["tickets"] == sum(
        summary[k] for k in ("served", "no_shows", "voided", "still_waiting", "at_window")
    )
    assert summary["tickets"] == (
        summary["tickets_printed"] + summary["tickets_without_paper"] + summary["tickets_unprinted"]
    )
    assert summary["counters"] == 6 + sum(n for _, n in staffing(load_config(EXAMPLE_CONFIG), 120))
    demo = tmp_path / "demo"
    assert json.loads((demo / "summary.json").read_text())["tickets"] == summary["tickets"]
    assert (demo / "report" / "report.pdf").stat().st_size > 1000
    assert processes_mentioning(str(demo)) == [], "the demo left a process behind"
    _the_report_pdf_is_real_text_that_accounts_for_every_ticket(demo)


@pytest.mark.parametrize("per_hour", [30, 60, 120, 240])
def test_the_demo_branch_is_staffed_for_its_arrivals(per_hour: float) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    added = dict(staffing(cfg, per_hour))
    # The demo's citizens pick a service with weight 1 / service_minutes, so each
    # service brings the same work: per_hour / (sum of weights) minutes an hour.
    weights = sum(1 / s.service_minutes for s in cfg.services)
    for s in cfg.services:
        busy = per_hour / weights / 60  # counters kept busy by this service
        have = sum(1 / len(c.services) for c in cfg.counters if s.id in c.services)
        staffed = have + added.get(s.id, 0)
        assert busy / staffed <= 0.75, s.id  # clerks busy at most 75 % of the day
        assert busy / (staffed - 1) > 0.75 or added.get(s.id, 0) == 0  # and not more
    assert staffing(cfg, 60) and sum(n for _, n in staffing(cfg, 120)) >= 10


def _the_report_pdf_is_real_text_that_accounts_for_every_ticket(demo: Path) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    text = subprocess.run(
        ["pdftotext", str(demo / "report" / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    text = re.sub("[\u202a-\u202e\u200e\u200f]", "", text)  # pdftotext's direction marks
    for service in cfg.services:  # every Arabic name in full, as real text
        assert service.name_ar in " ".join(text.split()), service.name_ar
    with sqlite3.connect(f"file:{demo / 'master.db'}?mode=ro", uri=True) as db:
        (tickets,) = db.execute("SELECT count(*) FROM tickets WHERE origin_id IS NULL").fetchone()
    # The accounting line: tickets = served + no-shows + voided + still in the centre.
    (line,) = [li for li in text.splitlines() if "=" in li and "ما زالوا في المركز" in li]
    numbers = [int(n) for n in re.findall(r"\d+", line)]
    assert len(numbers) == 5 and max(numbers) == tickets
    assert sum(numbers) - tickets == tickets




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
