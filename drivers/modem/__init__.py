"""GSM modems: one interface (:mod:`.interface`), the AT backend over pyserial
(:mod:`.at`) and a simulated modem on a pty (:mod:`.sim`) for tests and demos."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .interface import PERMANENT_CMS, Health, Modem, ModemError

if TYPE_CHECKING:
    from .sim import SimulatedModem

__all__ = ["PERMANENT_CMS", "Health", "Modem", "ModemError", "open_modem"]


def open_modem(
    port: str,
    baudrate: int = 115200,
    *,
    command_timeout: float = 10.0,
    send_timeout: float = 60.0,
    sim_record: str = "",
) -> tuple[Modem, SimulatedModem | None]:
    """The modem a configuration names; ``port = "sim"`` starts the simulated
    modem on a pty and drives it through the real AT backend."""
    from .at import AtModem

    sim = None
    if port == "sim":
        from .sim import SimulatedModem

        # With a record file, the modem also takes a stable link (so it can be
        # unplugged and plugged back in) and a control file beside it.
        base = Path(sim_record) if sim_record else None
        link = base.with_suffix(".tty") if base else None
        sim = SimulatedModem(link, record_file=base).start()
        if base is not None:
            sim.follow(base.with_suffix(".ctl"))
        port = sim.port
    return AtModem(port, baudrate, command_timeout=command_timeout, send_timeout=send_timeout), sim
