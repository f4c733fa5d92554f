"""Shared fixtures: a private Mosquitto per test session, configs, processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.drivers.modem.at import AtModem
from appliance.drivers.modem.sim import SimulatedModem
from appliance.sim.harness.broker import Mosquitto
from tests.support import EXAMPLE_CONFIG, FIRMWARE

# The counter sign's firmware (MicroPython) is importable as plain modules
# by the firmware, sign driver and counter tests.
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))

# Headless SDL for every test that touches pygame.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "disk")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A Mosquitto broker on a free port for the whole test session."""
    with Mosquitto(tmp_path_factory.mktemp("broker")) as b:
        yield b


@pytest.fixture
def example_config_text() -> str:
    return EXAMPLE_CONFIG.read_text(encoding="utf-8")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedModem]:
    """A simulated modem on a pty (the modem driver and SMS tests)."""
    with SimulatedModem(tmp_path / "modem") as modem:
        yield modem


@pytest.fixture
def modem(sim: SimulatedModem) -> Iterator[AtModem]:
    # Short timeouts: the simulated modem answers at once, or never (a fault).
    at = AtModem(sim.port, command_timeout=1.0, send_timeout=1.0)
    yield at
    at.close()
