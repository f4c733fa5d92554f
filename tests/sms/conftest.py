from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.drivers.modem.at import AtModem
from appliance.drivers.modem.sim import SimulatedModem


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedModem]:
    with SimulatedModem(tmp_path / "modem") as modem:
        yield modem


@pytest.fixture
def modem(sim: SimulatedModem) -> Iterator[AtModem]:
    # Short timeouts: the simulated modem answers at once, or never (a fault).
    at = AtModem(sim.port, command_timeout=1.0, send_timeout=1.0)
    yield at
    at.close()
