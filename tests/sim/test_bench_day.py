"""A small busy day through the same code as ``nidaa bench --day``.

Every unit is real (broker, master, hall display and SMS gateway processes;
kiosk and counter daemons on mock pins, printers and counter displays
simulated): the invariants of a day must hold, and every figure the bench
prints must be there and make sense.  Timings are the bench's business.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from appliance.config.branch import load_config
from appliance.errors import ConfigError, NidaaError
from appliance.sim.bench.day import rss_bound, run_day
from appliance.sim.bench.run import _bench_hooks
from appliance.sim.demo.day import day_config
from tests.support import EXAMPLE_CONFIG

EXAMPLE = EXAMPLE_CONFIG
PROCESSES = ("master", "display", "sms_gateway", "broker", "units")


@pytest.fixture(scope="module")
def day_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("day")


@pytest.fixture(scope="module")
def day(day_dir: Path) -> dict[str, float]:
    return run_day(EXAMPLE, day_dir, tickets=150, counters=12)


def test_the_hall_display_ran_as_installed(day: dict[str, float], day_dir: Path) -> None:
    """No screenshot or recording (the demo's, not a hall's): each call's
    arrival and first frame are in the calls log."""
    assert not (day_dir / "display").exists()
    lines = [json.loads(ln) for ln in (day_dir / "hall-calls.jsonl").read_text().splitlines()]
    assert len({ln["ticket"] for ln in lines if ln["recall"] == 0}) >= day["day_calls"] - (
        day["day_hall_calls_missed"]
    )
    assert all(0 < ln["received"] <= ln["drawn"] for ln in lines)


def test_every_ticket_issued_once_printed_and_called(day: dict[str, float]) -> None:
    assert day["day_counters"] == 12
    assert day["day_tickets"] == 150
    assert day["day_tickets_issued"] == 150  # the master's database
    assert day["day_tickets_printed"] == 150  # the kiosks' printers
    assert day["day_calls"] == 150  # each acknowledged by its counter display
    assert day["day_duplicate_numbers"] == 0
    assert day["day_tickets_not_called"] == 0
    # Every tenth citizen pressed priority first; the priority button's arming
    # window is milliseconds on the day's fast clock, so a slow thread may miss it.
    assert 0 < day["day_priority_tickets"] <= 15


def test_sms_of_registered_phones_left_the_modem(day: dict[str, float]) -> None:
    # One citizen in 50 leaves a phone; at full speed the clerk may have
    # served them before they register (refused: no such waiting ticket).
    assert day["day_sms_phones"] + day["day_sms_phones_late"] == 3
    assert day["day_sms_sent"] >= day["day_sms_phones"]  # "issued", and "called" if still waiting
    assert day["day_sms_undelivered"] == 0


@pytest.mark.parametrize("path", ["print", "counter", "hall"])
def test_latency_percentiles_present_and_ordered(day: dict[str, float], path: str) -> None:
    p50, p90, p99 = (day[f"day_{path}_p{q}_ms"] for q in (50, 90, 99))
    assert all(math.isfinite(v) and v > 0 for v in (p50, p90, p99))
    assert p50 <= p90 <= p99


def test_the_hall_showed_calls(day: dict[str, float]) -> None:
    # At full speed calls can outrun the screen's list of the last six (how
    # many depends on the machine's load: a figure for the bench); some are
    # drawn, and each one drawn was timed.
    assert 0 <= day["day_hall_calls_missed"] < day["day_calls"]


def test_throughput_and_memory_figures(day: dict[str, float]) -> None:
    assert day["day_wall_s"] > 0
    assert day["day_tickets_per_s"] == pytest.approx(150 / day["day_wall_s"], rel=0.05)
    for name in PROCESSES:
        sizes = [day[f"day_rss_{name}_{when}_mb"] for when in ("start", "half", "end")]
        assert all(1 < mb < 1000 for mb in sizes), (name, sizes)
    ok = all(
        day[f"day_rss_{n}_end_mb"] <= rss_bound(day[f"day_rss_{n}_half_mb"]) for n in PROCESSES
    )
    assert day["day_rss_growth_ok"] == int(ok)


def test_day_config_grows_the_example(tmp_path: Path) -> None:
    path = day_config(EXAMPLE, tmp_path, "mqtt://127.0.0.1:1", counters=12, kiosks=3)
    cfg = load_config(path)
    assert [c.id for c in cfg.counters] == [f"w{n}" for n in range(1, 13)]
    assert len({c.number for c in cfg.counters}) == 12
    served = {s for c in cfg.counters for s in c.services}
    assert served == {s.id for s in cfg.services}
    assert [k.unit for k in cfg.kiosks] == ["k1", "k2", "k3"]
    assert cfg.broker.url == "mqtt://127.0.0.1:1"


def test_a_day_refuses_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "master.db").write_bytes(b"")
    with pytest.raises(NidaaError, match="not empty"):
        run_day(EXAMPLE, tmp_path, tickets=1)


def test_bench_runs_the_day_only_when_asked() -> None:
    assert len(_bench_hooks(day_tickets=150)) == len(_bench_hooks()) + 1


def test_day_config_needs_the_sms_gateway(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    src = tmp_path / "no-sms.toml"
    src.write_text(text[: text.index("\n[sms]")], encoding="utf-8")  # [sms] is last
    with pytest.raises(ConfigError, match="needs a branch with an \\[sms\\] section"):
        day_config(src, tmp_path, "mqtt://127.0.0.1:1", counters=12, kiosks=3)
