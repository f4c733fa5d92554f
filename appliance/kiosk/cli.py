"""`nidaa ticket preview` (and, with the bus, `nidaa kiosk`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..cli.env import Environment, ExitCode
from ..config import load_config
from ..drivers.printer import PROFILE_FOR_WIDTH_MM, paper_width_px, ticket_job
from ..errors import ConfigError
from .options import TicketOptions
from .ticket import render_ticket, sample_face


def register(sub: Any) -> None:
    p = sub.add_parser("ticket", help="render tickets without a printer")
    tsub = p.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)
    v = tsub.add_parser(
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


def preview(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    try:
        face = sample_face(cfg, args.service, priority=args.priority)
    except KeyError:
        known = ", ".join(f"{s.id} ({s.prefix})" for s in cfg.services)
        raise ConfigError([("", f"unknown service {args.service!r}; known: {known}")]) from None
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
