"""SMS commands: `nidaa sms-gateway`, `nidaa sms pdu|test`, `nidaa request register|stage`."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from ..config.branch import load_config
from ..drivers.modem.pdu import PduError, encode
from ..sms import phone
from .common import DEFAULT_CONFIG, add_bus_options, send, tool_client
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    g = sub.add_parser("sms-gateway", help="run the SMS gateway daemon (GSM modem)")
    add_bus_options(g, json_output=False)
    g.add_argument("--modem", help="serial device (or 'sim'), overrides sms.modem")
    g.add_argument("--outbox", metavar="PATH", help="SQLite outbox, overrides sms.outbox")
    g.add_argument("--sim-record", metavar="FILE", help="with --modem sim: save every SMS here")
    g.set_defaults(func=run_gateway)

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
    test = ssub.add_parser(
        "test", help="send the 'test' template to NUMBER through the master and the gateway"
    )
    test.add_argument("number")
    add_bus_options(test)
    test.set_defaults(func=sms_test)

    box = ssub.add_parser(
        "outbox", help="on the gateway's Pi: what waits, what was sent, the dead letters"
    )
    box.add_argument("--config", default=os.environ.get("NIDAA_CONFIG", DEFAULT_CONFIG))
    box.add_argument("--retry-dead", action="store_true", help="send the dead letters again")
    box.add_argument("--json", action="store_true", help="print one JSON object")
    box.set_defaults(func=show_outbox)

    r = sub.add_parser("request", help="a citizen's request: phone number and stages (SMS)")
    rsub = r.add_subparsers(dest="request_command", metavar="ACTION", required=True)
    reg = rsub.add_parser("register", help="register the citizen's phone for TICKET (e.g. A001)")
    reg.add_argument("ticket")
    reg.add_argument("--phone", required=True, help="Egyptian mobile number")
    reg.add_argument("--ref", help="request reference (default: <day>-<ticket>)")
    add_bus_options(reg)
    reg.set_defaults(func=request_register)
    st = rsub.add_parser("stage", help="move request REF to STAGE (an SMS is sent)")
    st.add_argument("ref")
    st.add_argument("stage", help="received, review, ready, completed or a configured stage")
    add_bus_options(st)
    st.set_defaults(func=request_stage)


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


def _normalized(number: str, env: Environment) -> str | None:
    try:
        return phone.normalize(number)
    except phone.PhoneNumberError as exc:
        env.err(str(exc))
        return None


def _show_request(args: argparse.Namespace, env: Environment, result: dict[str, Any]) -> None:
    if args.json:
        env.json(result)
        return
    req = result["request"]
    env.out(f"request {req['ref']}: ticket {req['ticket']}, {req['phone']}, stage {req['stage']}")


def request_register(args: argparse.Namespace, env: Environment) -> int:
    number = _normalized(args.phone, env)
    if number is None:
        return ExitCode.USAGE
    payload: dict[str, Any] = {"ticket": args.ticket, "phone": number}
    if args.ref:
        payload["ref"] = args.ref
    with tool_client(args) as (_cfg, bus):
        result = send(bus, bus.topics.request_cmd(bus.sender, "register"), args, **payload)
    _show_request(args, env, result)
    return ExitCode.OK


def request_stage(args: argparse.Namespace, env: Environment) -> int:
    with tool_client(args) as (_cfg, bus):
        result = send(
            bus, bus.topics.request_cmd(bus.sender, "stage"), args, ref=args.ref, stage=args.stage
        )
    _show_request(args, env, result)
    return ExitCode.OK


def sms_test(args: argparse.Namespace, env: Environment) -> int:
    number = _normalized(args.number, env)
    if number is None:
        return ExitCode.USAGE
    with tool_client(args) as (_cfg, bus):
        result = send(bus, bus.topics.request_cmd(bus.sender, "test"), args, phone=number)
    if args.json:
        env.json(result)
    else:
        env.out(f"test SMS to {result['phone']} queued as event {result['event']}")
    return ExitCode.OK


def show_outbox(args: argparse.Namespace, env: Environment) -> int:
    import time

    from ..sms.outbox import Outbox

    cfg = load_config(args.config)
    if cfg.sms is None:
        env.err(f"{args.config}: no [sms] section: this branch sends no SMS")
        return ExitCode.CONFIG
    if not Path(cfg.sms.outbox).is_file():
        # Opening it would create an empty outbox and report zeros: on a Pi
        # without the gateway that reads as "nothing waits", which is not true.
        env.err(
            f"no SMS outbox at {cfg.sms.outbox}: the SMS gateway does not run on this Pi "
            "(run this on the gateway's Pi, or give its outbox with --config)"
        )
        return ExitCode.ERROR
    outbox = Outbox(cfg.sms.outbox)
    try:
        retried = outbox.retry_dead(time.time()) if args.retry_dead else 0
        status = outbox.status()
    finally:
        outbox.close()
    if args.json:
        env.json(status | {"retried": retried})
        return ExitCode.OK
    env.out(
        f"pending {status['pending']}  sent {status['sent']}  delivered {status['delivered']}  "
        f"dead {status['dead']}  awaiting report {status['parts_awaiting_report']}  "
        f"resent after crash {status['resent_after_crash']}"
    )
    for d in status["dead_letters"]:
        env.out(f"dead #{d['id']} {d['phone']} event {d['event']}: {d['error']} "
                f"after {d['attempts']} attempt(s)")  # fmt: skip
    if retried:
        env.out(f"{retried} dead letter(s) will be sent again")
    return ExitCode.OK


def run_gateway(args: argparse.Namespace, env: Environment) -> int:
    from ..sms.gateway import Gateway

    cfg = load_config(args.config)
    if cfg.sms is not None and (args.modem or args.outbox or args.sim_record):
        sms = dataclasses.replace(
            cfg.sms,
            modem=args.modem or cfg.sms.modem,
            outbox=args.outbox or cfg.sms.outbox,
            sim_record=args.sim_record or cfg.sms.sim_record,
        )
        cfg = dataclasses.replace(cfg, sms=sms)
    gateway = Gateway(cfg, broker_url=args.broker)
    assert cfg.sms is not None
    env.err(f"sms-gateway: branch {cfg.branch.id}, modem {cfg.sms.modem}, pid {os.getpid()}")
    gateway.run()
    return ExitCode.OK
