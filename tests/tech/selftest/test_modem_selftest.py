"""`nidaa test modem` against the simulated modem on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli.env import ExitCode
from appliance.drivers.modem.sim import SimulatedModem
from appliance.sms.config import DEFAULT_TEMPLATES
from appliance.tech.selftest.modem import signal_bars, signal_dbm
from tests.support.selftest import assert_shape, branch, nidaa, nidaa_json


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedModem]:
    with SimulatedModem(tmp_path / "ttyModem") as modem:
        yield modem


def config_for(tmp_path: Path, sim: SimulatedModem) -> str:
    return str(branch(tmp_path, modem=str(sim.link)))


def test_signal_in_dbm_and_bars() -> None:
    assert [signal_dbm(r) for r in (0, 1, 15, 31, 99)] == [-113, -111, -83, -51, None]
    assert [signal_bars(r) for r in (99, 0, 1, 2, 9, 10, 14, 15, 19, 20, 31)] == [
        0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip


def test_healthy_modem(tmp_path: Path, sim: SimulatedModem) -> None:
    sim.signal = 12
    code, out, _ = nidaa("test", "modem", "--config", config_for(tmp_path, sim))
    assert code == ExitCode.OK, out
    assert "ok   SIM (AT+CPIN?): READY" in out
    assert "ok   network (AT+CREG?): registered, home network" in out
    assert "ok   signal (AT+CSQ): -89 dBm, 2/4 bars" in out
    assert "nidaa sms test NUMBER" in out
    assert {"AT", "AT+CPIN?", "AT+CREG?", "AT+CSQ"} <= set(sim.commands)
    assert not sim.sent


def test_send_a_test_sms(tmp_path: Path, sim: SimulatedModem) -> None:
    code, obj = nidaa_json(
        "test", "modem", "--config", config_for(tmp_path, sim), "--send", "010 1234 5678"
    )
    assert code == ExitCode.OK, obj
    assert_shape(obj, "modem")
    assert obj["steps"][-1]["step"] == "delivery"
    assert obj["details"]["sent_to"] == "+20 10* *** **78", "the number is masked"
    assert len(sim.messages) == 1
    number, text = sim.messages[0]
    assert number.endswith("1012345678")
    centre = "مركز الدقي التكنولوجي"  # [sms] centre_name of the example
    assert text == DEFAULT_TEMPLATES["test"].replace("{centre}", centre)


@pytest.mark.parametrize(
    ("fault", "step", "said"),
    [
        ("no_sim", "SIM (AT+CPIN?)", "no SIM card"),
        ("searching", "network (AT+CREG?)", "not registered, searching"),
        ("denied", "network (AT+CREG?)", "registration denied"),
        ("no_signal", "signal (AT+CSQ)", "unknown (no signal)"),
        ("mute", "AT", "no answer from the modem"),
    ],
)
def test_faults_fail_with_the_reason(
    tmp_path: Path, sim: SimulatedModem, fault: str, step: str, said: str
) -> None:
    if fault == "no_sim":
        sim.sim_present = False
    elif fault == "searching":
        sim.registration = 2
    elif fault == "denied":
        sim.registration = 3
    elif fault == "no_signal":
        sim.signal = 99
    else:
        sim.mute()
    code, obj = nidaa_json(
        "test", "modem", "--config", config_for(tmp_path, sim), "--send", "01012345678"
    )
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "modem")
    failed = [s for s in obj["steps"] if not s["ok"]]
    assert len(failed) == 1 and failed[0]["step"] == step and said in failed[0]["detail"]
    assert not sim.sent, "no SMS is tried on a modem that failed its health check"


def test_missing_port(tmp_path: Path) -> None:
    config = branch(tmp_path, modem=str(tmp_path / "ttyUSB2"))
    code, out, _ = nidaa("test", "modem", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert "FAIL modem test of sms1: port: cannot open modem" in out
    assert "nidaa-sms-gateway" in out


def test_no_sms_section_is_a_config_error(tmp_path: Path) -> None:
    config = branch(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("[sms]")], encoding="utf-8")
    code, _, err = nidaa("test", "modem", "--config", str(config))
    assert code == ExitCode.CONFIG and "no [sms] section" in err


def test_bad_number_is_a_config_error(tmp_path: Path, sim: SimulatedModem) -> None:
    code, obj = nidaa_json("test", "modem", "--config", config_for(tmp_path, sim), "--send", "12")
    assert code == ExitCode.CONFIG
    assert obj["problems"][0]["path"] == "--send"
