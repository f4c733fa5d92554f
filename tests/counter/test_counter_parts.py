"""The counter unit's parts without a broker: buttons, configuration, display keeper."""

from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.config.branch import load_config, parse_config
from appliance.counter.buttons import CounterButtons, Wiring
from appliance.counter.config import DisplayConfig, check_units
from appliance.counter.screen import DisplayKeeper, View
from appliance.counter.units import select_unit
from appliance.drivers.sign import open_display
from appliance.drivers.sign.simulated import SimulatedDisplay
from appliance.drivers.sign.vendor import VendorFramer
from appliance.errors import ConfigError
from tests.support import EXAMPLE_CONFIG, REPO
from tests.support.counter import FakeClock, units_toml

EXAMPLE = EXAMPLE_CONFIG


# -- buttons (on the shared buttons driver) -------------------------------------


def make_buttons() -> tuple[CounterButtons, MockFactory, FakeClock, list[tuple[str, str]]]:
    factory, clock, seen = MockFactory(), FakeClock(), []
    buttons = CounterButtons(
        [Wiring("next", 5), Wiring("recall", 6, has_hold=True)],
        lambda name, gesture: seen.append((name, gesture)),
        factory=factory,
        hold_s=1.5,
        debounce=0.05,
        clock=clock,
        poll_interval=3600,  # the test settles held-back presses itself
    )
    return buttons, factory, clock, seen


def test_press_reports_on_the_edge_and_bounce_is_ignored() -> None:
    buttons, factory, clock, seen = make_buttons()
    pin = factory.pin(5)
    pin.drive_low()
    assert seen == [("next", "press")]  # on the edge, not on release
    for _ in range(3):  # contact bounce: edges 10 ms apart
        clock.advance(0.01)
        pin.drive_high()
        clock.advance(0.01)
        pin.drive_low()
    clock.advance(0.2)
    pin.drive_high()
    assert seen == [("next", "press")]
    clock.advance(0.2)
    pin.drive_low()
    assert seen == [("next", "press"), ("next", "press")]
    buttons.close()


def test_a_button_with_a_hold_action_does_press_or_hold_never_both() -> None:
    buttons, factory, clock, seen = make_buttons()
    pin = factory.pin(6)
    pin.drive_low()
    clock.advance(0.3)
    buttons.poll()
    assert seen == []  # might still become a hold
    pin.drive_high()
    buttons.poll()
    assert seen == []  # released, but seen so only once: it may be bouncing
    buttons.poll()
    assert seen == [("recall", "press")]

    clock.advance(1.0)
    pin.drive_low()
    clock.advance(1.6)
    buttons.board.tick()  # the board's own thread does this every 50 ms
    assert seen == [("recall", "press"), ("recall", "hold")]  # while still held
    pin.drive_high()
    for _ in range(3):
        buttons.poll()
    assert seen == [("recall", "press"), ("recall", "hold")]
    buttons.close()


def test_a_failing_handler_does_not_break_the_button() -> None:
    factory, clock = MockFactory(), FakeClock()
    calls = []

    def handler(name: str, gesture: str) -> None:
        calls.append(name)
        raise RuntimeError("boom")

    b = CounterButtons([Wiring("next", 5)], handler, factory=factory, clock=clock)
    for _ in range(2):
        factory.pin(5).drive_low()
        clock.advance(0.2)
        factory.pin(5).drive_high()
        clock.advance(0.2)
    assert calls == ["next", "next"]
    b.close()


# -- configuration -------------------------------------------------------------


def with_units(toml: str) -> str:
    """The example branch with more [[counter_units]] (indexes 2, 3...)."""
    return EXAMPLE.read_text(encoding="utf-8") + toml


def test_example_units_validate() -> None:
    cfg = load_config(EXAMPLE)
    assert [u.unit for u in cfg.counter_units] == ["counter-w1", "counter-w2"]
    assert check_units(cfg.counter_units, cfg) == []
    w2 = select_unit(cfg, "counter-w2")
    assert w2.buttons[0].hold == "recall" and w2.display.protocol == "vendor"
    with pytest.raises(ConfigError, match="choose one with --unit"):
        select_unit(cfg, None)


def test_bad_unit_settings_are_all_reported_with_paths() -> None:
    text = with_units(
        """
[[counter_units]]
unit = "bad"
counter = "w2"
buttons = [{ pin = 5, press = "recall" }, { pin = 5, press = "transfer", hold = "fly" }]
display = { address = 300, digits = 9, protocol = "morse" }
"""
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    paths = {p for p, _ in err.value.problems}
    assert {
        "counter_units[2].buttons[1].hold",
        "counter_units[2].display.address",
        "counter_units[2].display.digits",
        "counter_units[2].display.protocol",
    } <= paths


def test_cross_section_problems() -> None:
    text = with_units(
        """
[[counter_units]]
unit = "x"
counter = "w99"
transfer_service = "nothing"
buttons = [{ pin = 5, press = "next" }, { pin = 6, press = "transfer" }]
display = { protocol = "vendor", address = 100 }
"""
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert ("counter_units[2].display.address", "a vendor display address is 0..99") in (
        err.value.problems
    )
    # The unit's references to the branch are checked with the whole file
    # (`nidaa config validate`), not only when the daemon starts.
    with pytest.raises(ConfigError) as err:
        parse_config(text.replace("address = 100", "address = 7"))
    assert {p for p, _ in err.value.problems} == {
        "counter_units[2].counter",
        "counter_units[2].transfer_service",
    }


def test_duplicate_pins_and_missing_next() -> None:
    text = with_units(
        """
[[counter_units]]
unit = "y"
counter = "w3"
buttons = [{ pin = 5, press = "recall" }]
feedback = { satisfied = 5, neutral = 6, unsatisfied = 7 }
"""
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    messages = [m for p, m in err.value.problems if p == "counter_units[2].buttons"]
    assert "GPIO5 is wired to more than one button" in messages
    assert "no button calls 'next'" in messages


def test_test_units_parse() -> None:
    text = with_units(units_toml("timeout_ms = 100"))
    unit = select_unit(parse_config(text), "cu-w2")
    assert unit.display.backend == "simulated" and unit.pin_factory == "mock"


# -- display keeper ------------------------------------------------------------


def test_open_display_follows_the_configuration() -> None:
    assert open_display(DisplayConfig(backend="none")) is None
    vendor = open_display(DisplayConfig(port="/dev/null", protocol="vendor", address=3))
    assert vendor is not None and isinstance(vendor.framer, VendorFramer)  # type: ignore[attr-defined]


def test_keeper_notices_an_idle_display_going_quiet_and_coming_back() -> None:
    display = SimulatedDisplay(1, 4, timeout=0.05, retries=0)
    health: list[list[dict[str, str]]] = []
    changed = threading.Condition()

    def on_health(faults: list[dict[str, str]]) -> None:
        with changed:
            health.append(faults)
            changed.notify_all()

    keeper = DisplayKeeper(
        display, DisplayConfig(backend="simulated", check_s=0.2), on_health
    )
    keeper.start()
    try:
        keeper.show(View("text", "----"))
        assert keeper.wait_shown(lambda v: v.text == "----", 5)
        display.board.silent = True  # unplugged while nobody is called
        with changed:
            assert changed.wait_for(lambda: len(health) == 1, 5)
        assert health[0][0]["code"] == "display_no_ack"
        display.board.silent = False
        with changed:
            assert changed.wait_for(lambda: len(health) == 2, 5)
        assert health[1] == []
        keeper.show(View("number", "A7", (7, 0)))
        assert keeper.wait_shown(lambda v: v.text == "A7", 5)
        assert display.board.text() == "A7"
    finally:
        keeper.stop()


def test_every_setting_is_documented() -> None:
    import dataclasses

    from appliance.counter.config import ButtonSpec, CounterUnit, DisplayConfig, FeedbackBox

    doc = (REPO / "docs" / "counter.md").read_text(encoding="utf-8")
    for cls in (CounterUnit, ButtonSpec, FeedbackBox, DisplayConfig):
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in doc, f"{cls.__name__}.{f.name} missing in docs/counter.md"
