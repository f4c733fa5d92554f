"""`nidaa sms pdu NUMBER TEXT` and `nidaa sms test NUMBER`."""

from __future__ import annotations

import argparse
from typing import Any

from ..cli.env import Environment, ExitCode
from . import phone
from .pdu import PduError, encode


def register(sub: Any) -> None:
    p = sub.add_parser("sms", help="SMS tools: show PDUs, send a test message")
    ssub = p.add_subparsers(dest="sms_command", metavar="ACTION", required=True)
    pdu = ssub.add_parser(
        "pdu",
        help="print the PDU of every part that would be sent, one per line",
        description="Print one line per part: 'len=<n> pdu=<hex>'. <n> is the value for "
        "AT+CMGS=<n> (octets after the SMSC field); <hex> is what follows the '> ' prompt.",
    )
    pdu.add_argument("number", help="Egyptian mobile number, e.g. 010 1234 5678")
    pdu.add_argument("text", help="message text (Arabic goes as UCS-2)")
    pdu.add_argument("--ref", type=int, default=0, help="concatenation reference 0-255 (default 0)")
    pdu.add_argument("--no-report", action="store_true", help="do not request a delivery report")
    pdu.set_defaults(func=show_pdu)


def show_pdu(args: argparse.Namespace, env: Environment) -> int:
    try:
        number = phone.normalize(args.number)
        parts = encode(number, args.text, reference=args.ref, status_report=not args.no_report)
    except (phone.PhoneNumberError, PduError) as exc:
        env.err(str(exc))
        return ExitCode.USAGE
    for part in parts:
        env.out(f"len={part.length} pdu={part.pdu}")
    return ExitCode.OK
