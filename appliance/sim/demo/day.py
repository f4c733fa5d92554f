"""A busy day at full speed through the virtual branch (``nidaa bench --day``).

Everything a branch runs, as ``nidaa demo`` runs it: Mosquitto, the master
and the hall display (headless) and the SMS gateway (simulated modem) as
real processes; the kiosks (mock pins, simulated printers) and counters
(mock pins, the display firmware on a pty) as real daemons in this process.
There is no compressed-clock waiting: each kiosk's citizen presses again as
soon as the previous ticket is printed (one press in flight per kiosk), and
each clerk presses "next" as soon as the counter display acknowledged the
previous call.  The units' own clock runs :data:`DAY_SPEED` times faster
than the wall clock, so the human-scale guards (a button's 2 s cooldown, the
3 s double-"next" guard) stay in the code path but take milliseconds.

The busy-day configuration is made from the example: counters are added
(``w7``… serving two services each) and kiosks (``k2``…) until there are as
many as asked, the SMS rate limit is lifted, and ``day.toml`` is written in
the output folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...config.branch import load_config
from ...errors import ConfigError
from ..harness import unthrottled

#: How much faster than the wall clock the units' clock (guards, debounce) runs.
DAY_SPEED = 600.0


def day_config(src: Path, out: Path, broker_url: str, *, counters: int, kiosks: int) -> Path:
    """Write ``out/day.toml``: the branch of ``src`` grown to ``counters``
    counters and ``kiosks`` kiosks, on ``broker_url``."""
    base = load_config(src)
    if base.sms is None:  # the day runs every unit, the SMS gateway too
        raise ConfigError([("sms", "the busy day needs a branch with an [sms] section")])
    text = src.read_text(encoding="utf-8")
    text = unthrottled(text.replace(base.broker.url, broker_url))
    # The simulated modem is as fast as it is asked to be; an operator's
    # limit would make the SMS of a 3,000-ticket day take longer than the day.
    text = re.sub(r"(?m)^rate_per_minute = \d+", "rate_per_minute = 100000", text)
    services = [s.id for s in base.services]
    extra = []
    for n in range(len(base.counters) + 1, counters + 1):
        pair = sorted({services[n % len(services)], services[(n + 1) % len(services)]})
        extra.append(f'\n[[counters]]\nid = "w{n}"\nnumber = {n}\nservices = {_toml_list(pair)}\n')
    for n in range(len(base.kiosks) + 1, kiosks + 1):
        buttons = ", ".join(
            f'{{ pin = {pin}, service = "{sid}" }}'
            for pin, sid in zip(_PINS, services, strict=False)
        )
        extra.append(
            f'\n[[kiosks]]\nunit = "k{n}"\npin_factory = "mock"\n'
            f"buttons = [{buttons}, {{ pin = 21, priority = true }}]\n"
            f'[kiosks.printer]\nbackend = "simulated"\nprofile = "TM-T20II"\n'
        )
    dst = out / "day.toml"
    dst.write_text(text + "".join(extra), encoding="utf-8")
    cfg = load_config(dst)  # a typo above fails here, not mid-day
    if len(cfg.counters) < counters or len(cfg.kiosks) < kiosks:
        raise ValueError(f"{dst}: could not grow the branch to {counters} counters")
    return dst


_PINS = (5, 6, 13, 19, 26, 20, 16, 12, 7, 8)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"
