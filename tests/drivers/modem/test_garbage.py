"""Garbage from the modem, fuzzed: the AT backend never breaks on any bytes.

The counter display's serial line is fuzzed in tests/counter (the board and
the host decoder take arbitrary bytes); the modem had one fixed example in
tests/sms.  Here any bytes, in lines that look almost like the modem's own
(+CDS, +CMGS, OK, ERROR), come between commands: the backend answers with
its own :class:`ModemError` at worst, and after a restart (what the gateway
does) the next SMS goes out whole.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.drivers.modem import ModemError
from appliance.drivers.modem.at import AtModem
from appliance.drivers.modem.pdu import encode
from appliance.drivers.modem.sim import SimulatedModem

NUMBER = "+201012345678"
LOOKALIKES = [b"+CDS: ", b"+CDS: 9", b"+CDS: 300", b"+CMGS: ", b"+CMGS: 7", b"> ", b"OK",
              b"ERROR", b"+CMS ERROR: x", b"+CME ERROR: 10", b"07911326", b"\x00" * 8]  # fmt: skip
noise = st.lists(st.one_of(st.binary(max_size=48), st.sampled_from(LOOKALIKES)), max_size=8).map(
    lambda parts: b"\r\n".join(parts) + b"\r\n"
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=noise, tail=st.binary(max_size=16))
def test_any_bytes_from_the_modem_never_break_the_backend(
    tmp_path_factory: pytest.TempPathFactory, garbage: bytes, tail: bytes
) -> None:
    folder = tmp_path_factory.mktemp("modem")
    with SimulatedModem(folder / "link") as sim:
        modem = AtModem(sim.port, command_timeout=0.5, send_timeout=0.5)
        try:
            modem.start()
            sim.inject(garbage + tail)  # tail: a line without its end
            try:
                reports = modem.poll(0.1)
                assert all(isinstance(r.message_ref, int) for r in reports)
                refs = [modem.send(p) for p in encode(NUMBER, "hello", reference=1)]
            except ModemError:
                modem.close()  # what the gateway's sender does on a fault
                modem.start()
                refs = [modem.send(p) for p in encode(NUMBER, "hello", reference=1)]
            assert len(refs) == 1
            assert (NUMBER, "hello") in sim.messages
        finally:
            modem.close()
