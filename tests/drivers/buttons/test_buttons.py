"""Buttons: debounce, hold and cooldown on an injected clock, through real
gpiozero Buttons on MockFactory pins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from appliance.drivers.buttons import (
    ButtonBoard,
    ButtonEvent,
    PressDetector,
    factory_name,
    output_device,
    pin_factory,
    reset_mock_factory,
)
from appliance.errors import ConfigError, HardwareError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def factory() -> Iterator[Any]:
    reset_mock_factory()
    yield pin_factory("mock", environ={})
    reset_mock_factory()


def detector(clock: FakeClock, **kw: Any) -> tuple[PressDetector, list[ButtonEvent]]:
    events: list[ButtonEvent] = []
    return PressDetector("a", events.append, clock=clock, **kw), events


def test_one_clean_press(clock: FakeClock) -> None:
    d, events = detector(clock)
    d.edge(True)
    clock.advance(0.2)
    d.edge(False)
    assert [(e.kind, e.at) for e in events] == [("press", 1000.0)]


def test_bouncing_contact_gives_one_press(clock: FakeClock) -> None:
    d, events = detector(clock, debounce=0.05, cooldown=0)
    for _ in range(6):  # a cheap switch chattering for 30 ms
        d.edge(True)
        clock.advance(0.003)
        d.edge(False)
        clock.advance(0.002)
    d.edge(True)
    clock.advance(0.5)
    d.edge(False)
    assert len(events) == 1 and d.counts.bounces >= 6


def test_a_new_press_after_a_real_release(clock: FakeClock) -> None:
    d, events = detector(clock, debounce=0.05, cooldown=0)
    d.edge(True)
    clock.advance(0.3)
    d.edge(False)
    clock.advance(0.3)
    d.edge(True)
    assert len(events) == 2


def test_held_button_gives_one_press_and_one_hold(clock: FakeClock) -> None:
    d, events = detector(clock, hold_time=3.0, cooldown=0)
    d.edge(True)
    for _ in range(100):  # ten seconds of ticks
        clock.advance(0.1)
        d.tick()
    d.edge(False)
    assert [e.kind for e in events] == ["press", "hold"]
    assert events[1].at == events[0].at


def test_cooldown_per_button(clock: FakeClock) -> None:
    d, events = detector(clock, debounce=0.05, cooldown=2.0)
    for _ in range(5):  # hammered: five clean presses in 1.5 s
        d.edge(True)
        clock.advance(0.15)
        d.edge(False)
        clock.advance(0.15)
    assert len(events) == 1 and d.counts.cooldown == 4
    clock.advance(2.0)
    d.edge(True)
    assert len(events) == 2


def test_board_on_mock_pins(clock: FakeClock, factory: Any) -> None:
    events: list[ButtonEvent] = []
    board = ButtonBoard(
        {"building": 17, "priority": 27}, events.append, factory=factory, clock=clock, cooldown=2.0
    )
    try:
        pin = factory.pin(17)
        pin.drive_low()  # pressed (pull-up: closed contact pulls the pin low)
        clock.advance(0.004)
        pin.drive_high()  # bounce
        clock.advance(0.004)
        pin.drive_low()
        clock.advance(0.3)
        pin.drive_high()
        factory.pin(27).drive_low()
        assert [(e.button, e.kind) for e in events] == [
            ("building", "press"),
            ("priority", "press"),
        ]
        clock.advance(0.5)
        factory.pin(27).drive_high()
        clock.advance(0.5)
        factory.pin(27).drive_low()  # within its cooldown
        assert len(events) == 2
        assert board.detectors["priority"].counts.cooldown == 1
    finally:
        board.close()


def test_board_hold_ticks(clock: FakeClock, factory: Any) -> None:
    events: list[ButtonEvent] = []
    board = ButtonBoard({"next": 5}, events.append, factory=factory, clock=clock, hold_time=2.0)
    try:
        factory.pin(5).drive_low()
        clock.advance(2.5)
        board.tick()
        board.tick()
        assert [e.kind for e in events] == ["press", "hold"]
    finally:
        board.close()


def test_pin_used_twice_is_refused(factory: Any) -> None:
    with pytest.raises(ConfigError, match="GPIO17 is used by both 'a' and 'b'"):
        ButtonBoard({"a": 17, "b": 17}, lambda e: None, factory=factory)


def test_pin_taken_by_another_device(factory: Any) -> None:
    led = output_device("led", 22, factory)
    try:
        with pytest.raises(HardwareError, match="buttons"):
            ButtonBoard({"a": 22}, lambda e: None, factory=factory)
    finally:
        led.close()


def test_outputs_record_their_states(factory: Any) -> None:
    led = output_device("led", 23, factory)
    buzzer = output_device("buzzer", 24, factory)
    try:
        led.on()
        led.off()
        buzzer.on()
        assert [s.state for s in factory.pin(23).states] == [False, True, False]
        assert factory.pin(24).state is True
    finally:
        led.close()
        buzzer.close()


def test_factory_choice() -> None:
    assert factory_name("rpigpio", environ={}) == "rpigpio"
    assert factory_name("lgpio", environ={"GPIOZERO_PIN_FACTORY": "mock"}) == "mock"
    assert factory_name("", environ={}) == "lgpio"
    with pytest.raises(ConfigError, match="unknown pin factory 'pigpio2'"):
        factory_name("pigpio2", environ={})


def test_real_gpio_missing_is_a_clear_error() -> None:
    # This machine has no GPIO chip (or no lgpio): a clear hardware error.
    try:
        pin_factory("lgpio", environ={})
    except HardwareError as exc:
        assert "lgpio" in str(exc)
    else:  # pragma: no cover - only on a Pi
        pytest.skip("running on a Raspberry Pi with lgpio")


def test_kiosk_panel_blinks_the_green_led_without_a_red_one(factory: Any) -> None:
    from appliance.kiosk.panel import Panel
    from appliance.sim.harness.procs import wait_until

    panel = Panel(factory, status_led=17, buzzer=27)
    try:
        panel.show(True)
        assert factory.pin(17).state is True
        panel.show(False)
        assert wait_until(lambda: len(factory.pin(17).states) >= 5, 5)  # on, off, on...
        panel.alarm()
        assert wait_until(lambda: len(factory.pin(27).states) >= 7, 5)  # three beeps
        panel.show(True)
        assert factory.pin(17).state is True
    finally:
        panel.close()
