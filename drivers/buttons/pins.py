"""Choosing gpiozero's pin factory.

``lgpio`` on a Raspberry Pi 5 (and any Pi running a recent kernel),
``rpigpio`` (RPi.GPIO) on older boards, ``mock`` off the Pi: gpiozero's
MockFactory, whose pins tests and the virtual branch drive by hand and which
record every state an output pin went through; ``sim`` off the Pi when another
process presses the buttons (:mod:`.sim_pins`).

The ``GPIOZERO_PIN_FACTORY`` environment variable wins over the configuration,
as it does for gpiozero itself, so a technician can run a Pi's configuration
on a laptop with ``GPIOZERO_PIN_FACTORY=mock``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError, HardwareError

FACTORIES = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory", "python3-lgpio (or `pip install lgpio`)"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory", "python3-rpi.gpio"),
    "mock": ("gpiozero.pins.mock", "MockFactory", "gpiozero"),
    # Mock pins pressed by another process through a socket (demo --chaos).
    "sim": ("appliance.drivers.buttons.sim_pins", "SimPinFactory", "gpiozero"),
}

_mock: Any = None


def factory_name(configured: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    name = (environ.get("GPIOZERO_PIN_FACTORY") or configured or "lgpio").strip().lower()
    if name not in FACTORIES:
        raise ConfigError(
            [("pin_factory", f"unknown pin factory {name!r}; choose {', '.join(FACTORIES)}")]
        )
    return name


def pin_factory(configured: str = "", environ: Mapping[str, str] | None = None) -> Any:
    """The gpiozero pin factory to pass to every device of a unit.

    All ``mock`` users in one process share one MockFactory, as all units on
    one Pi share its pins: a pin used twice is then caught as on real GPIO.
    """
    global _mock
    name = factory_name(configured, environ)
    module_name, class_name, package = FACTORIES[name]
    if name == "mock" and _mock is not None:
        return _mock
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, class_name)()
    except ImportError as exc:
        raise HardwareError(f"pin factory {name!r} needs {package}: {exc}") from None
    except Exception as exc:  # gpiozero raises its own types when there is no GPIO chip
        raise HardwareError(f"pin factory {name!r} cannot start here: {exc}") from None
    if name == "mock":
        _mock = factory
    return factory


def reset_mock_factory() -> None:
    """Forget the shared MockFactory (tests, between virtual branches)."""
    global _mock
    if _mock is not None:
        _mock.reset()
    _mock = None
