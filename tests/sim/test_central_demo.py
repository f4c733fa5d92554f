"""`nidaa demo --branches 3 --central`, short: one link cut (its bridge queue
overflowing), the consumer killed and PostgreSQL restarted; every branch's
database equals the central copy at the end."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.procs import processes_mentioning


def test_three_branches_converge_through_a_cut_and_restarts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "appliance", "demo", "--branches", "3", "--central", "--json",
         "--minutes", "0.4", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    for key in ("branches", "tickets_branch_total", "tickets_central_total",
                "tickets_missing_central", "tickets_mismatched", "link_cuts", "resyncs",
                "central_lag_p99_s"):  # fmt: skip
        assert key in result, key
    assert result["branches"] == 3
    assert result["tickets_missing_central"] == 0 and result["tickets_mismatched"] == 0
    assert result["tickets_branch_total"] == result["tickets_central_total"] > 20
    assert result["link_cuts"] == 1 and result["resyncs"] >= 1
    assert result["bridge_queue_overflows"] >= 1
    assert "killing the central consumer" in done.stderr
    assert "restarting PostgreSQL" in done.stderr
    # The web dashboard ran: its address and login were printed, and the
    # login of the run's start still opened it after the consumer's restart.
    assert f"dashboard: {result['dashboard_url']}  (login 'demo', password '" in done.stderr
    assert result["dashboard_url"].startswith("http://127.0.0.1:")
    assert result["dashboard_session_kept"] is True
    assert result["dashboard_branches_shown"] == 3

    with (out / "central-tickets.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["branch", "business_day", "ticket_id", "number", "service", "state"]
    assert len(rows) == result["tickets_central_total"]
    branches = sorted(p.name for p in (out / "branches").iterdir())
    assert branches == ["branch-01", "branch-02", "branch-03"]
    for name in branches:
        db = sqlite3.connect(out / "branches" / name / "master.db")
        mine = {(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in db.execute(
            "SELECT id, number, service, state FROM tickets")}  # fmt: skip
        db.close()
        theirs = {(r["ticket_id"], r["number"], r["service"], r["state"])
                  for r in rows if r["branch"] == name}  # fmt: skip
        assert mine == theirs
    assert not processes_mentioning(str(out))  # nothing left running
