"""`nidaa kiosk` (the daemon) and `nidaa ticket preview`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..config.branch import load_config
from ..drivers.printer import PROFILE_FOR_WIDTH_MM, paper_width_px, ticket_job
from ..errors import UsageError
from ..kiosk.config import default_kiosk, simulated
from ..kiosk.options import TicketOptions
from ..kiosk.ticket import render_ticket, sample_face
from ..kiosk.units import select_unit
from .common import add_bus_options
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    register_kiosk(sub)
    v = _ticket_actions(sub).add_parser(
        "preview",
        help="render a sample ticket of SERVICE as PNG (and the printer's bytes)",
        description="Render a sample ticket of SERVICE (id or prefix letter) as the "
        "kiosk would print it.  --escpos writes exactly the bytes a printer would receive.",
    )
    v.add_argument("service", metavar="SERVICE")
    v.add_argument("--config", required=True, metavar="FILE")
    size = v.add_mutually_exclusive_group()
    size.add_argument("--width", type=int, choices=sorted(PROFILE_FOR_WIDTH_MM), help="paper mm")
    size.add_argument("--profile", help="python-escpos printer profile (gives the paper width)")
    v.add_argument("--priority", action="store_true", help="a priority-window ticket")
    v.add_argument("--out", required=True, metavar="PNG")
    v.add_argument("--escpos", metavar="BIN", help="also write the ESC/POS job")
    v.set_defaults(func=preview)


def _ticket_actions(sub: Any) -> Any:
    """The `nidaa ticket ACTION` group: `ticket issue` lives in the queue
    commands; `preview` joins it here."""
    parser = sub.choices.get("ticket")
    if parser is None:
        parser = sub.add_parser("ticket", help="tickets")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)


def preview(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    try:
        face = sample_face(cfg, args.service, priority=args.priority)
    except KeyError:
        known = ", ".join(f"{s.id} ({s.prefix})" for s in cfg.services)
        raise UsageError(f"unknown service {args.service!r}; known: {known}") from None
    profile = args.profile or PROFILE_FOR_WIDTH_MM[args.width or 80]
    width = paper_width_px(profile)
    image = render_ticket(cfg, face, width, TicketOptions())
    out = Path(args.out)
    image.save(out)
    env.out(f"{out}: ticket {face.number}, {image.width}x{image.height} dots ({profile})")
    if args.escpos:
        data = ticket_job(image, profile)
        Path(args.escpos).write_bytes(data)
        env.out(f"{args.escpos}: {len(data)} bytes of ESC/POS")
    return ExitCode.OK


def register_kiosk(sub: Any) -> None:
    p = sub.add_parser(
        "kiosk",
        help="run a kiosk daemon (buttons → ticket from the master → printer)",
        description="Run one kiosk unit of the branch configuration.",
    )
    add_bus_options(p, json_output=False)
    p.add_argument("--unit", metavar="ID", help="which [[kiosks]] entry (needed if several)")
    # Virtual branch and benchmark: mock pins and an in-memory printer that
    # saves its tickets in DIR; not for a real centre.
    p.add_argument("--simulate-hardware", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=run_kiosk)


def run_kiosk(args: argparse.Namespace, env: Environment) -> int:
    from ..kiosk.daemon import KioskDaemon

    cfg = load_config(args.config)
    if args.simulate_hardware is not None:
        # Mock pins, unless another process presses them ("sim": demo --chaos).
        if os.environ.get("GPIOZERO_PIN_FACTORY") != "sim":
            os.environ["GPIOZERO_PIN_FACTORY"] = "mock"
        base = select_unit(cfg, args.unit) if cfg.kiosks else default_kiosk(cfg, args.unit or "k1")
        unit = simulated(base, args.simulate_hardware)
    else:
        unit = select_unit(cfg, args.unit)
    daemon = KioskDaemon(cfg, unit, broker_url=args.broker)
    env.err(
        f"kiosk {unit.unit}: branch {cfg.branch.id}, printer {unit.printer.backend} "
        f"({unit.printer.profile}, {daemon.width} dots), pid {os.getpid()}"
    )
    daemon.run()
    return ExitCode.OK
