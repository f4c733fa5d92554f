"""The SMS gateway in the virtual branch: every SMS it 'sent' is saved."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import load_config
from appliance.sim.demo import run as demo_run
from appliance.sim.roles.counter import CounterSim
from appliance.sim.roles.sms import SmsSim
from tests.support import EXAMPLE_CONFIG
from tests.support.procs import processes_mentioning


@pytest.mark.slow
def test_the_demo_saves_every_sms_it_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the SMS role and the clerks who call, whatever else `nidaa demo` runs.
    monkeypatch.setattr(demo_run, "ROLES", (SmsSim(), CounterSim()))
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["demo", "--minutes", "0.5", "--arrivals", "30", "--out", str(tmp_path / "demo"),
         "--config", str(EXAMPLE_CONFIG), "--json"],
        Environment(stdout=out, stderr=err, environ={}),
    )  # fmt: skip
    assert code == ExitCode.OK, err.getvalue()
    saved = [
        json.loads(line) for line in (tmp_path / "demo" / "sms.jsonl").read_text().splitlines()
    ]
    cfg = load_config(EXAMPLE_CONFIG)
    assert cfg.sms is not None
    issued = cfg.sms.all_templates["issued"].split("{ticket}")[0].format(centre=cfg.sms.centre_name)
    assert len(saved) >= 5
    assert all(s["number"].startswith("+20100") for s in saved)
    assert sum(s["text"].startswith(issued) for s in saved) >= 3
    assert any("للشباك" in s["text"] for s in saved)  # a 'called' SMS with its window
    # The ticket as the paper and the hall show it: «هـ ١٢ (E012)».
    label = re.compile(r"[\u0621-\u064a]ـ? [٠-٩]+ \([A-Z]\d{3}\)")
    assert all(label.search(s["text"]) for s in saved if s["text"].startswith(issued))
    assert processes_mentioning(str(tmp_path / "demo")) == [], "a process was left behind"
