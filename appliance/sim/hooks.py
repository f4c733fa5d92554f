"""The one protocol by which the simulator runs each role.

Every role (kiosk, counter, hall display, SMS gateway) has one
:class:`RoleSim` in :mod:`appliance.sim.roles`: ``demo`` starts it in the
virtual branch of ``nidaa demo`` and ``bench`` measures it for ``nidaa
bench``.  The roles' own packages never import the simulator; it drives
them through their daemons and configuration only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..clock import ScaledClock
from ..config.branch import Config


@dataclass
class DemoOptions:
    config: Path
    out: Path
    minutes: float = 1.0
    seed: int = 1
    per_hour: float = 60.0
    priority_share: float = 0.12
    no_show_share: float = 0.05
    live: bool = True


@dataclass
class DemoContext:
    """What the virtual branch gives each role it runs."""

    options: DemoOptions
    config: Config
    config_path: Path
    broker_url: str
    clock: ScaledClock
    out: Path


@dataclass
class BenchContext:
    """What the benchmark gives each role's measurement."""

    config: Config
    config_path: Path
    broker_url: str
    workdir: Path
    samples: int


class Running(Protocol):
    """A role started in the virtual branch."""

    def stop(self) -> object: ...


class RoleSim(Protocol):
    """What each role gives the simulator."""

    @property
    def name(self) -> str: ...

    def demo(self, ctx: DemoContext) -> Running | None:
        """Start the role's real daemons on simulated hardware (None: the
        branch has no such unit)."""

    def bench(self, ctx: BenchContext) -> dict[str, float]:
        """Measure the role: named figures for ``nidaa bench``."""
