"""`nidaa test printer`: the kiosk's ticket printer.

Asks the printer's real-time status (DLE EOT), then prints a short test
ticket through the same driver and job builder as a citizen's ticket: the
centre's name, "اختبار الطابعة", the date and time, and a ruler as wide as
the configured paper, so the technician sees at once whether the profile
matches the roll (a ruler cut off at the edge: profile too wide).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from ...arabic import default_renderer
from ...config.branch import Config
from ...drivers.printer import PrinterState
from ...errors import HardwareError
from ...kiosk.config import PrinterSettings
from ...kiosk.units import select_unit
from .hints import access_problem, stop_daemon, warn_if_running
from .result import Progress, SelfTest, quiet

DOTS_PER_MM = 8  # every ESC/POS profile Nidaa uses prints at 203 dpi

STATE_CHECKS = {
    PrinterState.PAPER_OUT: "load a new paper roll (thermal side out) and close the cover",
    PrinterState.COVER_OPEN: "close the printer's cover until it clicks",
    PrinterState.OFFLINE: "the printer's power, its cable, and its error LED (a cutter jam "
    "blinks it); press FEED to see whether it is alive",
    PrinterState.UNKNOWN: "the serial speed (`baudrate`) against the printer's self-test "
    "page, and that no other device shares the port",
}


def ruler(width: int, height: int = 40) -> Image.Image:
    """A millimetre ruler exactly ``width`` dots long, with a mark at each end."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, 2), fill=0)
    for x in range(0, width, DOTS_PER_MM):
        mm = x // DOTS_PER_MM
        tall = height - 8 if mm % 10 == 0 else (height // 2 if mm % 5 == 0 else height // 4)
        draw.line((x, 0, x, tall), fill=0, width=2 if mm % 10 == 0 else 1)
    # Both ends fully marked: if either is missing on paper, the width is wrong.
    draw.rectangle((0, 0, 3, height - 1), fill=0)
    draw.rectangle((width - 4, 0, width - 1, height - 1), fill=0)
    return image


def page_image(cfg: Config, unit: str, width: int, profile: str) -> Image.Image:
    """The test page: who, what, when, and the ruler."""
    r = default_renderer()
    now = datetime.now(ZoneInfo(cfg.branch.timezone))
    page = Image.new("L", (width, 1200), 255)
    y = 8
    lines = [
        (cfg.branch.name_ar, 24, False),
        ("اختبار الطابعة", 40, True),
        (f"{now:%Y-%m-%d %H:%M:%S}", 24, False),
        (f"{unit} · {profile} · {width} dots = {width // DOTS_PER_MM} mm", 20, False),
    ]
    for text, size, bold in lines:
        for line in r.wrap(text, size, width - 16, bold):
            _, h = r.draw(page, (width / 2, y), line, size, bold, 0, "center")
            y += h
    y += 8
    page.paste(ruler(width), (0, y))
    y += 48
    return page.crop((0, 0, width, y))


def _where(p: PrinterSettings) -> str:
    return {
        "usb": f"USB {p.usb_vendor:04x}:{p.usb_product:04x}",
        "serial": f"{p.serial_port} at {p.baudrate} baud",
        "network": f"{p.host}:{p.port}",
        "file": p.path,
        "simulated": "in memory (simulated)",
    }[p.backend]


def _link_checks(p: PrinterSettings) -> list[str]:
    if p.backend == "usb":
        return [
            f"`lsusb` lists {p.usb_vendor:04x}:{p.usb_product:04x} (the USB cable, the printer's power)",
            "the udev rule giving group lp the device, and the user in group lp",
            stop_daemon("kiosk"),
        ]
    if p.backend == "serial":
        return [
            access_problem(p.serial_port) or f"the cable on {p.serial_port}",
            stop_daemon("kiosk"),
        ]
    if p.backend == "network":
        return [f"`ping {p.host}`, the printer's network cable and its IP (self-test page)"]
    if p.backend == "file":
        return [access_problem(p.path) or f"that {p.path} can be written"]
    return []


def run(
    cfg: Config, unit_id: str | None, *, progress: Progress = quiet, print_page: bool = True
) -> SelfTest:
    kiosk = select_unit(cfg, unit_id)
    settings = kiosk.printer
    result = SelfTest("printer", kiosk.unit, progress)
    result.details.update(
        backend=settings.backend, where=_where(settings), profile=settings.profile
    )
    progress(f"printer of kiosk {kiosk.unit}: {settings.backend}, {_where(settings)}")
    warn_if_running(result, "kiosk")
    printer = settings.open()
    try:
        try:
            printer.check()
        except HardwareError as exc:
            return result.fail("found", str(exc), *_link_checks(settings))
        result.step("found", True, _where(settings))
        status = printer.status()
        result.details["state"] = status.state.value
        if not status.ready:
            reason = status.reason or status.state.value
            checks = [STATE_CHECKS.get(status.state, "")]
            if status.state is PrinterState.OFFLINE:
                checks += _link_checks(settings)
            return result.fail("status", f"{status.state.value}: {reason}", *checks)
        result.step(
            "status", True, "ready (DLE EOT)" + (f"; {status.reason}" if status.reason else "")
        )
        if status.paper_low:
            result.warn("the paper roll is nearly empty: have a new one ready")
        if not print_page:
            return result
        try:
            image = page_image(cfg, kiosk.unit, printer.paper_width, settings.profile)
        except HardwareError as exc:  # no Arabic font installed
            return result.fail("render", str(exc), "`sudo apt-get install fonts-noto-core`")
        try:
            sent = printer.print_ticket(image)
        except HardwareError as exc:
            after = printer.status()
            checks = [STATE_CHECKS.get(after.state, "")] if not after.ready else []
            return result.fail(
                "print",
                f"{exc} (printer now {after.state.value})",
                *checks,
                *_link_checks(settings),
            )
        result.details.update(
            bytes_sent=len(sent), width_dots=image.width, height_dots=image.height
        )
        result.step(
            "print",
            True,
            f"test ticket sent ({len(sent)} bytes, {image.width}x{image.height} dots) and cut: "
            "check that the ruler reaches both edges of the paper",
        )
        return result
    finally:
        printer.close()
