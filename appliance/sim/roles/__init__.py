"""Each role in the simulator: one :class:`~appliance.sim.hooks.RoleSim` per
role, in the order the virtual branch starts them (the hall display first, so
it sees every call)."""

from __future__ import annotations

from ..hooks import RoleSim
from .counter import CounterSim
from .hall import HallSim
from .kiosk import KioskSim
from .sms import SmsSim

ROLES: tuple[RoleSim, ...] = (HallSim(), KioskSim(), CounterSim(), SmsSim())
