"""The kiosk's configuration section: ``[[kiosks]]`` in the branch file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..config.core import ID, Branchwide
from ..config.schema import duplicates, setting
from .options import TicketOptions

if TYPE_CHECKING:
    from ..drivers.printer import Printer

GPIO_MAX = 27  # BCM numbering on the 40-pin header


@dataclass(frozen=True)
class KioskButton:
    """A push button citizens press."""

    pin: int = setting("BCM GPIO number the button pulls to ground.", minimum=0, maximum=GPIO_MAX)
    service: str = setting(
        "Id (or prefix letter) of the service it takes a ticket for.  Empty on a "
        "priority button: then it marks the next service pressed as priority.",
        default="",
    )
    priority: bool = setting(
        "A button for the elderly and people with disabilities (priority window).",
        default=False,
    )
    label_ar: str = setting("What the button's sign says (for logs and the docs).", default="")

    def check(self) -> Iterator[tuple[str, str]]:
        if not self.service and not self.priority:
            yield "service", "a service button needs a service"


@dataclass(frozen=True)
class PrinterSettings:
    """The ticket printer and how it is reached."""

    backend: Literal["usb", "serial", "network", "file", "simulated"] = setting(
        "How the printer is connected; 'simulated' keeps it in memory (tests, demo)."
    )
    profile: str = setting(
        "python-escpos printer profile: gives the paper width (POS-5890: 58 mm, "
        "384 dots; TM-T20II: 80 mm, 576 dots).",
        default="POS-5890",
    )
    usb_vendor: int = setting("USB vendor id (see `lsusb`), e.g. 0x0416.", default=0, minimum=0)
    usb_product: int = setting("USB product id, e.g. 0x5011.", default=0, minimum=0)
    usb_in_ep: int = setting("USB input endpoint.", default=0x82, minimum=0, maximum=255)
    usb_out_ep: int = setting("USB output endpoint.", default=0x01, minimum=0, maximum=255)
    serial_port: str = setting("Serial device, e.g. /dev/ttyUSB0 or /dev/serial0.", default="")
    baudrate: int = setting("Serial speed.", default=9600, minimum=1200, maximum=921600)
    host: str = setting("Network printer's address.", default="")
    port: int = setting("Network printer's TCP port.", default=9100, minimum=1, maximum=65535)
    path: str = setting("Device node or capture file for the 'file' backend.", default="")
    timeout_s: float = setting(
        "Seconds to wait for the printer's status answer.",
        default=1.0,
        minimum=0.05,
        maximum=30,
        aliases=("timeout",),
    )
    output_dir: str = setting(
        "Simulated backend: save every printed ticket here as PNG and .bin.", default=""
    )

    def check(self) -> Iterator[tuple[str, str]]:
        needs = {
            "usb": ("usb_vendor", "usb_product"),
            "serial": ("serial_port",),
            "network": ("host",),
            "file": ("path",),
        }.get(self.backend, ())
        for name in needs:
            if not getattr(self, name):
                yield name, f"is required for the {self.backend!r} backend"
        from ..errors import ConfigError

        try:
            from ..drivers.printer import paper_width_px

            paper_width_px(self.profile)
        except ConfigError as exc:
            yield "profile", exc.problems[0][1]

    def open(self) -> Printer:
        """The printer this section describes (not yet contacted)."""
        from ..drivers.printer import open_printer

        by_backend: dict[str, dict[str, Any]] = {
            "usb": {
                "vendor_id": self.usb_vendor,
                "product_id": self.usb_product,
                "in_ep": self.usb_in_ep,
                "out_ep": self.usb_out_ep,
                "timeout_ms": int(self.timeout_s * 1000),
            },
            "serial": {
                "port": self.serial_port,
                "baudrate": self.baudrate,
                "timeout": self.timeout_s,
            },
            "network": {"host": self.host, "port": self.port, "timeout": self.timeout_s},
            "file": {"path": self.path},
            "simulated": {"output_dir": self.output_dir or None},
        }
        return open_printer(self.backend, profile=self.profile, **by_backend[self.backend])


@dataclass(frozen=True)
class KioskUnit:
    """A ticket kiosk: buttons, a printer, a status LED, a fault LED, a buzzer."""

    unit: str = setting("Unit id of this kiosk (its status topic).", pattern=ID)
    buttons: list[KioskButton] = setting("The buttons, as [[kiosks.buttons]] tables.")
    printer: PrinterSettings = setting("The ticket printer.")
    pin_factory: str = setting(
        "gpiozero pin factory: 'lgpio' (Pi 5 and recent Pi OS), 'rpigpio' (older "
        "boards) or 'mock' (no GPIO).  GPIOZERO_PIN_FACTORY in the environment wins.",
        default="lgpio",
    )
    status_led_pin: int | None = setting(
        "GPIO of the green 'ready' LED.", default=None, minimum=0, maximum=GPIO_MAX
    )
    fault_led_pin: int | None = setting(
        "GPIO of the red fault LED.", default=None, minimum=0, maximum=GPIO_MAX
    )
    buzzer_pin: int | None = setting(
        "GPIO of the buzzer.", default=None, minimum=0, maximum=GPIO_MAX
    )
    cooldown_s: float = setting(
        "Seconds a button ignores further presses after giving a ticket.",
        default=2.0,
        minimum=0,
        maximum=60,
    )
    debounce_ms: float = setting(
        "Contact bounce filter in milliseconds.", default=50, minimum=1, maximum=500
    )
    priority_arm_s: float = setting(
        "After a priority button without a service, seconds to press a service button.",
        default=10.0,
        minimum=1,
        maximum=60,
    )
    request_timeout_s: float = setting(
        "Seconds to wait for the master per attempt.", default=1.5, minimum=0.2, maximum=30
    )
    request_attempts: int = setting(
        "Attempts (same command id) before the master counts as unreachable.",
        default=3,
        minimum=1,
        maximum=10,
    )
    status_poll_s: float = setting(
        "Seconds between printer checks while idle (a cleared fault recovers by itself).",
        default=3.0,
        minimum=0.2,
        maximum=300,
    )
    journal: str = setting(
        "File where the kiosk notes each ticket request until its paper is out, so a "
        "kiosk restarted mid-press voids the number it was given (empty: memory only).",
        default="",
    )
    ticket: TicketOptions = setting("What the ticket shows.", default_factory=TicketOptions)

    def check(self) -> Iterator[tuple[str, str]]:
        if not self.buttons:
            yield "buttons", "a kiosk needs at least one button"
        for pin in duplicates(self.all_pins()):
            yield "", f"GPIO{pin} is used more than once (buttons, LEDs and buzzer)"

    def all_pins(self) -> list[int]:
        pins = [b.pin for b in self.buttons]
        pins += [
            p for p in (self.status_led_pin, self.fault_led_pin, self.buzzer_pin) if p is not None
        ]
        return pins


def default_kiosk(cfg: Branchwide, unit: str = "k1") -> KioskUnit:
    """A kiosk with one button per service and a priority button, for a
    branch file without [[kiosks]] (virtual branch, benchmark)."""
    buttons = [KioskButton(pin=4 + i, service=s.id) for i, s in enumerate(cfg.services)]
    buttons.append(KioskButton(pin=4 + len(buttons), priority=True))
    return KioskUnit(unit=unit, buttons=buttons, printer=PrinterSettings(backend="simulated"))


def simulated(kiosk: KioskUnit, output_dir: str = "") -> KioskUnit:
    """The same kiosk on mock pins with an in-memory printer of the same
    paper width (saving its tickets in ``output_dir`` if given).  Its journal
    goes to ``output_dir`` too, or stays in memory: a simulated kiosk never
    writes the Pi's /var/lib/nidaa."""
    printer = PrinterSettings(
        backend="simulated", profile=kiosk.printer.profile, output_dir=output_dir
    )
    journal = str(Path(output_dir) / "requests.journal") if output_dir and kiosk.journal else ""
    return replace(kiosk, printer=printer, pin_factory="mock", journal=journal)


def check_kiosks(kiosks: list[KioskUnit], cfg: Branchwide) -> list[tuple[str, str]]:
    """Rules that need the whole branch: services exist, unit ids unique."""
    problems: list[tuple[str, str]] = []
    for dup in duplicates(k.unit for k in kiosks):
        problems.append(("kiosks", f"unit {dup!r} is used by more than one kiosk"))
    for i, kiosk in enumerate(kiosks):
        for j, button in enumerate(kiosk.buttons):
            if not button.service:
                continue
            try:
                cfg.service(button.service)
            except KeyError:
                problems.append(
                    (f"kiosks[{i}].buttons[{j}].service", f"unknown service {button.service!r}")
                )
    return problems


__all__ = [
    "KioskButton",
    "KioskUnit",
    "PrinterSettings",
    "TicketOptions",
    "check_kiosks",
    "default_kiosk",
    "simulated",
]
