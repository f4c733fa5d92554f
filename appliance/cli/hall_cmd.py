"""`nidaa announce` and `nidaa display`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..config.branch import load_config
from ..errors import UsageError
from ..hall.units import display_unit
from ..hall.voice import CallVoice, write_wav
from ..hall.words import LANGUAGES, LETTER_STYLES
from .common import DEFAULT_CONFIG
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    a = sub.add_parser(
        "announce",
        help="render the spoken call of TICKET to COUNTER as a WAV file, or print its words",
    )
    a.add_argument("ticket", help="ticket number as printed, e.g. A123")
    a.add_argument("counter", help="counter id or window number")
    a.add_argument(
        "--config",
        default=os.environ.get("NIDAA_CONFIG", DEFAULT_CONFIG),
        metavar="FILE",
        help=f"branch configuration (default: $NIDAA_CONFIG or {DEFAULT_CONFIG})",
    )
    a.add_argument("--unit", help="display unit whose voice settings to use")
    a.add_argument("--out", help="write the announcement (chime and voice) to this WAV file")
    a.add_argument("--text", action="store_true", help="print the spoken words on one line")
    a.add_argument("--language", choices=LANGUAGES, help="override the display's languages")
    a.add_argument("--letters", choices=LETTER_STYLES, help="override the letter style")
    a.set_defaults(func=announce)

    from . import hall_daemon_cmd

    hall_daemon_cmd.register(sub)


def announce(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.config)
    unit = display_unit(cfg, args.unit)
    try:
        counter = cfg.counter(args.counter)
    except KeyError:
        known = ", ".join(f"{c.id} ({c.number})" for c in cfg.counters)
        raise UsageError(
            f"no counter with id or window number {args.counter!r}; known: {known}"
        ) from None
    if not args.out and not args.text:
        env.err("give --out FILE.wav, --text or both")
        return ExitCode.USAGE
    languages = [args.language] if args.language else list(unit.languages)
    voice = CallVoice.load(
        languages,
        args.letters or unit.letters,
        {"ar": unit.voice_pack_ar, "en": unit.voice_pack_en},
    )
    try:
        texts, pcm = voice.render(args.ticket, counter.number)
    except ValueError as exc:
        env.err(str(exc))
        return ExitCode.USAGE
    if args.text:
        env.out(" ".join(texts))
    if args.out:
        try:
            write_wav(args.out, pcm, voice.rate)
        except OSError as exc:
            env.err(f"cannot write {args.out}: {exc.strerror or exc}")
            return ExitCode.ERROR
    return ExitCode.OK
