"""`nidaa test printer|buttons|display|sound|modem`: a unit's own hardware."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..config.branch import load_config
from ..errors import ConfigError, HardwareError
from ..tech.selftest import DEVICES, SelfTest
from .common import DEFAULT_CONFIG
from .env import Environment, ExitCode

HELP = {
    "printer": "kiosk printer: status (paper, cover), then a test ticket with a ruler",
    "buttons": "kiosk or counter: light LEDs and buzzer, then press every button",
    "display": "counter LED display: ping, all segments, window number, blink, brightness",
    "sound": "hall display: chime and a sample announcement on the speakers",
    "modem": "SMS gateway modem: SIM, network, signal; --send NUMBER sends a test SMS",
}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "test",
        help="self-test this unit's hardware (printer, buttons, display, sound, modem)",
        description="Exercise one device of this unit with a visible or audible result. "
        "Exit 0: pass; 6: the device failed (the output says what to check); "
        "3: the configuration does not describe it.  Stop the unit's daemon first "
        "(sudo systemctl stop nidaa-ROLE): it holds the device.  See docs/selftest.md.",
    )
    devices = p.add_subparsers(dest="device", metavar="DEVICE", required=True)
    for device in DEVICES:
        d = devices.add_parser(device, help=HELP[device], description=HELP[device])
        d.add_argument(
            "--config",
            default=os.environ.get("NIDAA_CONFIG", DEFAULT_CONFIG),
            metavar="FILE",
            help=f"branch configuration (default: $NIDAA_CONFIG or {DEFAULT_CONFIG})",
        )
        if device != "modem":  # one [sms] section per branch
            d.add_argument(
                "--unit", metavar="ID", help="which unit of the configuration (if several)"
            )
        d.add_argument("--json", action="store_true", help="print one JSON object")
        d.set_defaults(func=run_test)
    devices.choices["printer"].add_argument(
        "--no-print", action="store_true", help="only ask the status; print nothing"
    )
    devices.choices["buttons"].add_argument(
        "--timeout", type=float, default=30.0, help="seconds to press every button (default 30)"
    )
    devices.choices["buttons"].add_argument(
        "--light",
        type=float,
        default=1.5,
        metavar="S",
        help="seconds the LEDs stay on (default 1.5)",
    )
    devices.choices["display"].add_argument(
        "--pause",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds each pattern stays (default 1)",
    )
    devices.choices["modem"].add_argument(
        "--send", metavar="NUMBER", default="", help="also send the 'test' SMS to NUMBER"
    )
    devices.choices["modem"].add_argument(
        "--report-timeout", type=float, default=30.0, metavar="S",
        help="with --send: seconds to wait for the delivery report (default 30)",
    )  # fmt: skip


#: device → the roles whose units have it.
DEVICE_ROLES = {
    "printer": ("kiosk",),
    "buttons": ("kiosk", "counter"),
    "display": ("counter",),
    "sound": ("display",),
}


def _this_unit(config: str, device: str) -> str | None:
    """The unit `nidaa install` put on this Pi, if exactly one has ``device``."""
    from ..tech.install import installed_units

    here = installed_units(config)
    units = [here[r] for r in DEVICE_ROLES.get(device, ()) if r in here]
    return units[0] if len(units) == 1 else None


def _run_device(args: argparse.Namespace, env: Environment) -> SelfTest:
    cfg = load_config(args.config)
    if getattr(args, "unit", "") is None:
        args.unit = _this_unit(args.config, args.device)
    progress = (lambda _line: None) if args.json else env.out
    if args.device == "printer":
        from ..tech.selftest import printer

        return printer.run(cfg, args.unit, progress=progress, print_page=not args.no_print)
    if args.device == "buttons":
        from ..tech.selftest import buttons

        return buttons.run(
            cfg, args.unit, timeout=args.timeout, light_s=args.light, progress=progress,
            environ=dict(env.environ),
        )  # fmt: skip
    if args.device == "display":
        from ..tech.selftest import sign

        return sign.run(cfg, args.unit, pause_s=args.pause, progress=progress)
    if args.device == "sound":
        from ..tech.selftest import sound

        return sound.run(cfg, args.unit, progress=progress)
    from ..tech.selftest import modem

    return modem.run(cfg, send_to=args.send, progress=progress, report_timeout=args.report_timeout)


def run_test(args: argparse.Namespace, env: Environment) -> int:
    try:
        result = _run_device(args, env)
    except ConfigError as exc:
        if not args.json:
            raise  # main prints every problem and exits 3
        env.json(
            {
                "device": args.device,
                "ok": False,
                "verdict": f"FAIL {args.device} test: the configuration does not describe it",
                "problems": [{"path": p, "message": m} for p, m in exc.problems],
            }
        )
        return ExitCode.CONFIG
    except HardwareError as exc:
        # A fault the device test did not foresee still ends in one verdict
        # (and one JSON object), not a traceback.
        result = SelfTest(args.device, getattr(args, "unit", None) or "this unit")
        result.fail(
            "device", str(exc), "run again with -v for the driver's log; see docs/selftest.md"
        )
    if args.json:
        env.json(result.as_dict())
    else:
        env.out(result.verdict)
        if result.checks:
            env.out("check:")
            for check in result.checks:
                env.out(f"  - {check}")
    return ExitCode.OK if result.ok else ExitCode.HARDWARE
