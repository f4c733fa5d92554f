"""Named push buttons on GPIO pins, through gpiozero.

Wiring: one leg of each momentary button to its GPIO pin, the other to a
ground pin; the Pi's internal pull-up holds the pin high until the button is
pressed (``pull_up=True``).  Long cables in a hall pick up noise: keep them
twisted with their ground, or add a 10 kΩ external pull-up and 100 nF to
ground at the Pi end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ConfigError, HardwareError
from .press import ButtonEvent, Clock, PressDetector


class ButtonBoard:
    """Buttons by name; every press or hold goes to ``on_event``.

    ``on_event`` runs on gpiozero's edge thread (or, with mock pins, on the
    thread that drove the pin): keep it short and hand work to a queue.
    """

    def __init__(
        self,
        pins: Mapping[str, int],
        on_event: Callable[[ButtonEvent], None],
        *,
        factory: Any,
        clock: Clock = time.monotonic,
        debounce: float = 0.05,
        cooldown: float | Mapping[str, float] = 2.0,
        hold_time: float | None = None,
        pull_up: bool = True,
        tick_interval: float = 0.05,
    ) -> None:
        used: dict[int, str] = {}
        for name, pin in pins.items():
            if pin in used:
                raise ConfigError(
                    [("buttons", f"GPIO{pin} is used by both {used[pin]!r} and {name!r}")]
                )
            used[pin] = name
        from gpiozero import Button

        self.pins = dict(pins)
        self.factory = factory
        self.detectors: dict[str, PressDetector] = {}
        self._buttons: list[Any] = []
        try:
            for name, pin in pins.items():
                wait = cooldown.get(name, 2.0) if isinstance(cooldown, Mapping) else cooldown
                detector = PressDetector(
                    name,
                    on_event,
                    clock=clock,
                    debounce=debounce,
                    cooldown=wait,
                    hold_time=hold_time,
                )
                # gpiozero's own bounce_time is left off: mock pins ignore it
                # and the detector does the same job on every factory.
                button = Button(pin, pull_up=pull_up, pin_factory=factory)
                button.when_pressed = lambda d=detector: d.edge(True)
                button.when_released = lambda d=detector: d.edge(False)
                self.detectors[name] = detector
                self._buttons.append(button)
        except Exception as exc:
            self.close()
            if isinstance(exc, ConfigError | HardwareError):
                raise
            raise HardwareError(f"cannot set up the buttons: {exc}") from exc
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if hold_time is not None:
            self._ticker = threading.Thread(
                target=self._tick_loop, args=(tick_interval,), name="buttons-hold", daemon=True
            )
            self._ticker.start()

    def _tick_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.tick()

    def tick(self) -> None:
        """Look for holds now (the board's own thread does this too)."""
        for detector in list(self.detectors.values()):
            detector.tick()

    def close(self) -> None:
        if getattr(self, "_stop", None) is not None:
            self._stop.set()
        for button in self._buttons:
            button.close()
        self._buttons = []


def output_device(kind: str, pin: int, factory: Any, **options: Any) -> Any:
    """A gpiozero output (``"led"``, ``"buzzer"``) on ``pin``.

    LEDs: GPIO → 330 Ω resistor → LED → ground.  Buzzer: an *active* 5 V
    buzzer switched by a transistor (the pin gives only a few mA at 3.3 V).
    """
    from gpiozero import LED, Buzzer

    cls = {"led": LED, "buzzer": Buzzer}[kind]
    try:
        return cls(pin, pin_factory=factory, **options)
    except Exception as exc:
        raise HardwareError(f"cannot drive the {kind} on GPIO{pin}: {exc}") from exc
