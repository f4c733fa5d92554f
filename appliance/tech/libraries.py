"""Which hardware libraries a unit's configuration needs, and whether they import.

`nidaa install` asks this before it changes anything: a kiosk configured for
``pin_factory = "lgpio"`` and a USB printer is refused when ``lgpio`` or
libusb is missing, with what to install, instead of a service that starts and
fails at the first button or ticket.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.branch import Config
from ..drivers.buttons.pins import FACTORIES, factory_name


@dataclass(frozen=True)
class Library:
    what: str  #: what needs it, for the message
    module: str  #: the module that must import
    install: str  #: what to install when it does not
    #: A further check once the module imports (libusb behind pyusb); an
    #: error message, or "" when fine.
    probe: Callable[[Any], str] | None = None


def _libusb(_module: Any) -> str:
    libusb1 = importlib.import_module("usb.backend.libusb1")
    if libusb1.get_backend() is None:
        return "pyusb finds no libusb"
    return ""


def _pins(what: str, configured: str) -> Library:
    name = factory_name(configured, {})
    module, _cls, package = FACTORIES[name]
    return Library(f"{what}: pin factory {name!r}", module, package)


def needed(cfg: Config, role: str, unit: str) -> list[Library]:
    """The libraries ``unit`` of ``role`` imports at start with this configuration."""
    libs: list[Library] = []
    serial = "pyserial (pip install nidaa pulls it in)"
    if role == "kiosk":
        kiosk = next(k for k in cfg.kiosks if k.unit == unit)
        libs.append(_pins(f"kiosk {unit}", kiosk.pin_factory))
        backend = kiosk.printer.backend
        if backend == "usb":
            usb = "the Debian package libusb-1.0-0 and pyusb"
            libs.append(Library(f"kiosk {unit}: USB printer", "usb.core", usb, _libusb))
        elif backend == "serial":
            libs.append(Library(f"kiosk {unit}: serial printer", "serial", serial))
    elif role == "counter":
        cu = next(c for c in cfg.counter_units if c.unit == unit)
        libs.append(_pins(f"counter unit {unit}", cu.pin_factory))
        if cu.display.backend == "serial":
            libs.append(Library(f"counter unit {unit}: LED display", "serial", serial))
    elif role == "display":
        shown = next((d for d in cfg.displays if d.id == unit), None)
        libs.append(Library(f"display {unit}: screen", "pygame", "pygame-ce"))
        if shown is not None and shown.audio == "pygame":
            libs.append(Library(f"display {unit}: sound", "pygame.mixer", "pygame-ce"))
    elif role == "sms-gateway" and cfg.sms is not None and cfg.sms.modem != "sim":
        libs.append(Library(f"SMS gateway {unit}: modem", "serial", serial))
    return libs


def missing(libs: list[Library]) -> list[str]:
    """One line per library that does not import (or whose probe fails)."""
    problems = []
    for lib in libs:
        try:
            module = importlib.import_module(lib.module)
            trouble = lib.probe(module) if lib.probe else ""
        except Exception as exc:  # ImportError, OSError of a shared library, ...
            trouble = f"{type(exc).__name__}: {exc}"
        if trouble:
            problems.append(f"{lib.what} needs {lib.install} ({trouble})")
    return problems
