"""A short chaos run: every unit a process, faults injected, invariants held."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.sim.demo.chaos import MUST_BE_ZERO
from appliance.sim.demo.reliability import FAULTS, check_report, render
from tests.support import REPO, write_config


def test_short_chaos_run_holds_every_invariant(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mqtt://127.0.0.1:1")  # the run starts its own broker
    out, err = io.StringIO(), io.StringIO()
    report = tmp_path / "reliability.md"
    code = run(
        ["demo", "--chaos", "--json", "--minutes", "0.5", "--fault-every", "1.5", "--seed", "3",
         "--config",
         str(config), "--out", str(tmp_path / "chaos"), "--report", str(report)],
        Environment(stdout=out, stderr=err),
    )  # fmt: skip
    result = json.loads(out.getvalue())
    logs = (tmp_path / "chaos" / "units").glob("*/log")
    assert result["presses_printed"] > 10 and result["calls"] > 10, result
    faults = result["faults_injected"]
    # Each kind of fault at least once in 30 s (the injector takes them in
    # turn), and kill -9 of a daemon of each role.
    for kind in ("kill9_master", "kill9_kiosk", "kill9_display", "kill9_sms", "kill9_counter",
                 "mosquitto_restart", "sigstop_", "printer_paper_out", "modem_cms_error",
                 "modem_unplugged"):  # fmt: skip
        assert any(k.startswith(kind) for k in faults), (kind, faults)
    assert result["presses_refused"] >= 1  # the paper ran out while citizens pressed
    assert result["sms_stage_events"] > 0 and result["settled"]
    broken = {k: result[k] for k in MUST_BE_ZERO if result[k]}
    assert not broken, f"invariants broken: {broken}; logs in {[str(p) for p in logs]}"
    assert result["invariants_held"] and code == 0
    assert check_report(report.read_text(encoding="utf-8")) == []


def test_report_format_is_checked() -> None:
    result = {key: 0 for key in MUST_BE_ZERO} | {
        "seconds": 20, "faults_injected": {"kill9_master": 2}, "restarts": {"master": 2},
        "tickets_issued": 40,
    }  # fmt: skip
    good = render(result, "nidaa demo --chaos --minutes 3 --seed 1 --report docs/reliability.md")
    assert check_report(good) == []
    assert "| kill -9 of the master | `kill9_master` | 2 |" in good
    broken = render(result | {"tickets_lost": 1}, "nidaa demo --chaos --report x.md")
    assert check_report(broken) == [
        "invariant tickets_lost not held: | printed tickets (kiosk log: number and id) that "
        "the master does not hold under that id and number | `tickets_lost` | 1 | 0 | **NO** |"
    ]
    assert "no 'Produced by" in check_report(good.replace("Produced by", "Made by"))[0]
    assert check_report(good.replace("| 2 |", "| two |"))  # a malformed count


def test_committed_reliability_report_is_generated_and_held() -> None:
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert check_report(text) == []
    for key in FAULTS:
        if not key.startswith("sigstop_"):  # which unit freezes is drawn at random
            assert f"`{key}`" in text, f"docs/reliability.md: no {key}; run the command again"


def test_committed_standby_report_is_generated_and_held() -> None:
    text = (REPO / "docs" / "reliability-standby.md").read_text(encoding="utf-8")
    assert check_report(text) == []
    assert "Produced by `nidaa demo --chaos --standby " in text
    zombies = re.search(r"`zombie_commits_refused` \| (\d+) \|", text)
    assert zombies is not None and int(zombies[1]) >= 1


def test_short_chaos_run_with_a_standby_master(tmp_path: Path) -> None:
    """Two master candidates on a private etcd cluster, a broker on each Pi:
    the active master killed, paused past its lease, its whole Pi lost, etcd
    members killed; today's invariants hold and the takeovers are measured."""
    config = write_config(tmp_path, "mqtt://127.0.0.1:1")
    out = io.StringIO()
    report = tmp_path / "reliability-standby.md"
    code = run(
        ["demo", "--chaos", "--standby", "--json", "--minutes", "0.5", "--fault-every", "2",
         "--seed", "2", "--config", str(config), "--out", str(tmp_path / "chaos"),
         "--report", str(report)],
        Environment(stdout=out, stderr=io.StringIO()),
    )  # fmt: skip
    result = json.loads(out.getvalue())
    broken = {k: result[k] for k in MUST_BE_ZERO if result[k]}
    assert not broken and code == 0, result
    faults = result["faults_injected"]
    for kind in ("kill_active", "etcd_member", "freeze_active", "pi_lost"):
        assert faults.get(kind), (kind, faults)
    assert result["failovers"] >= 3 and result["takeovers_measured"] >= 1
    assert result["takeover_max_s"] >= result["takeover_p50_s"] > 0
    # The paused master woke to etcd's refusal of the commit it had in flight.
    assert result["zombie_commits_refused"] >= 1, result
    assert result["presses_printed"] > 10
    text = report.read_text(encoding="utf-8")
    assert check_report(text) == [], text
    assert "Produced by `nidaa demo --chaos --standby --minutes 0.5 --seed 2" in text
    assert "| kill -9 of the active master | `kill_active` | " in text
    zombies = result["zombie_commits_refused"]
    assert f"etcd refused: it acknowledged nothing | `zombie_commits_refused` | {zombies} |" in text
