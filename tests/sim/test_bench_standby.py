"""`nidaa bench --standby`: figures with etcd in the path, beside their floors."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.sim.bench.standby import CANDIDATES, standby_figures
from tests.support import EXAMPLE_CONFIG


def test_standby_bench_reports_issue_beside_the_etcd_floor(tmp_path: Path) -> None:
    result = standby_figures(EXAMPLE_CONFIG, 20, tmp_path)
    assert result["standby_floor_plain_ms"] > 0 and result["standby_floor_ms"] > 0
    assert result["standby_issue_p50_ms"] <= result["standby_issue_p99_ms"]
    assert result["standby_issue_over_floor"] > 0 and result["standby_tickets_per_s"] > 0
    # The tickets went through the log: the standby's database holds them too.
    assert result["standby_lag_at_end"] == 0
    counts = []
    for unit in CANDIDATES:
        with sqlite3.connect(tmp_path / f"{unit}.db") as db:
            counts.append(db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
    assert counts[0] == counts[1] >= 20


def test_the_cli_runs_only_the_standby_figures() -> None:
    out = io.StringIO()
    assert run(["bench", "--standby", "--samples", "20", "--json"], Environment(stdout=out)) == 0
    result = json.loads(out.getvalue())
    assert set(result) == {"samples", *[k for k in result if k.startswith("standby_")]}
