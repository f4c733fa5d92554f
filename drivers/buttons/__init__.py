"""Push buttons and simple outputs (LEDs, buzzer) on GPIO, through gpiozero.

Shared by the kiosk (one button per service, priority buttons) and the
counter unit (next, recall, no-show, ...).  :class:`ButtonBoard` turns pins
into named presses with debounce, hold and a per-button cooldown driven by an
injectable clock; :func:`pin_factory` picks lgpio, RPi.GPIO or gpiozero's
MockFactory from the configuration or ``GPIOZERO_PIN_FACTORY``.
"""

from __future__ import annotations

from .board import ButtonBoard, output_device
from .pins import FACTORIES, factory_name, pin_factory, reset_mock_factory
from .press import ButtonEvent, PressCounts, PressDetector

__all__ = [
    "FACTORIES",
    "ButtonBoard",
    "ButtonEvent",
    "PressCounts",
    "PressDetector",
    "factory_name",
    "output_device",
    "pin_factory",
    "reset_mock_factory",
]
