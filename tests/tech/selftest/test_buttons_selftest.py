"""`nidaa test buttons` on gpiozero's MockFactory: the test presses the pins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli.env import ExitCode
from appliance.config.branch import load_config
from appliance.drivers.buttons import pin_factory, reset_mock_factory
from appliance.tech.selftest import buttons
from tests.support.selftest import Lines, assert_shape, branch, nidaa, nidaa_json

MOCK = {"GPIOZERO_PIN_FACTORY": "mock"}
KIOSK_PINS = (5, 6, 13, 19, 21, 26)


@pytest.fixture(autouse=True)
def fresh_pins() -> Iterator[None]:
    reset_mock_factory()
    yield
    reset_mock_factory()


def press(pins: tuple[int, ...], ready: threading.Event) -> threading.Thread:
    """A technician: once the test asks, press (and release) each pin in turn."""

    def go() -> None:
        assert ready.wait(10)
        factory = pin_factory("mock")
        for pin in pins:
            factory.pin(pin).drive_low()
            factory.pin(pin).drive_high()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_every_press_is_reported_as_it_comes(tmp_path: Path) -> None:
    cfg = load_config(branch(tmp_path))
    lines: list[str] = []
    asked = threading.Event()

    def progress(line: str) -> None:
        lines.append(line)
        if "press each button" in line:
            asked.set()

    presser = press(KIOSK_PINS, asked)
    result = buttons.run(cfg, "k1", timeout=10, light_s=0.05, progress=progress, environ=MOCK)
    presser.join(5)
    assert result.ok, result.verdict
    assert "  ok   pin 5 (تراخيص البناء): pressed" in lines
    assert "  ok   pin 21 (كبار السن وذوو الهمم): pressed" in lines
    assert set(result.details["pressed"]) == {str(p) for p in KIOSK_PINS}
    # The LED and the buzzer were switched on, then off again.
    factory = pin_factory("mock")
    for pin in (17, 27):
        states = [s.state for s in factory.pin(pin).states]
        assert True in states and states[-1] is False, (pin, states)


def test_a_button_never_pressed_fails_with_its_pin(tmp_path: Path) -> None:
    cfg = load_config(branch(tmp_path))
    asked = threading.Event()
    presser = press((5, 6, 13, 19, 26), asked)  # the priority button (GPIO21) is dead
    result = buttons.run(
        cfg,
        "k1",
        timeout=1.0,
        light_s=0,
        progress=lambda line: asked.set() if "press each" in line else None,
        environ=MOCK,
    )
    presser.join(5)
    assert not result.ok
    assert result.verdict.endswith("1 of 6 not pressed within 1 s: GPIO21")
    assert any("GPIO21" in c and "ground" in c for c in result.checks)
    failed = [s.name for s in result.steps if not s.ok]
    assert failed == ["pin 21 (كبار السن وذوو الهمم)", "buttons"]


def test_cli_counter_unit_with_feedback_box(tmp_path: Path) -> None:
    config = branch(tmp_path)
    out = Lines()
    asked = threading.Event()

    def wait_for_prompt() -> None:
        if out.wait_for("press each button"):
            asked.set()

    waiter = threading.Thread(target=wait_for_prompt, daemon=True)
    waiter.start()
    presser = press((5, 6, 13, 19, 20, 21, 26), asked)
    code, text, _ = nidaa(
        "test", "buttons", "--config", str(config), "--unit", "counter-w1", "--timeout", "10",
        environ=MOCK, stdout=out,
    )  # fmt: skip
    presser.join(5)
    assert code == ExitCode.OK, text
    assert "outputs: none configured on this unit" in text
    assert "pin 6 (recall, hold: no_show): pressed" in text
    assert "pin 26 (feedback unsatisfied): pressed" in text
    assert text.strip().splitlines()[-1] == "PASS buttons test of counter-w1"


def test_cli_timeout_exit_code_and_json(tmp_path: Path) -> None:
    config = branch(tmp_path)
    code, obj = nidaa_json(
        "test", "buttons", "--config", str(config), "--unit", "counter-w2", "--timeout", "0.2",
        environ=MOCK,
    )  # fmt: skip
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "buttons")
    assert obj["details"]["buttons"] == {"5": "next, hold: recall"}
    assert obj["details"]["pressed"] == {}


def test_several_units_need_unit(tmp_path: Path) -> None:
    code, _, err = nidaa("test", "buttons", "--config", str(branch(tmp_path)), environ=MOCK)
    assert code == ExitCode.CONFIG
    assert "several units with buttons (k1, counter-w1, counter-w2)" in err


def test_config_pin_factory_mock_without_environment(tmp_path: Path) -> None:
    config = branch(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('pin_factory = "lgpio"', 'pin_factory = "mock"', 1))
    code, obj = nidaa_json(
        "test", "buttons", "--config", str(config), "--unit", "k1", "--timeout", "0.1",
        "--light", "0", environ={},
    )  # fmt: skip
    assert code == ExitCode.HARDWARE  # nobody pressed
    assert obj["details"]["pin_factory"] == "mock"
    assert obj["steps"][0] == {
        "step": "outputs",
        "ok": True,
        "detail": "switched on for 0 s: GPIO17 led:status, GPIO27 buzzer",
    }
