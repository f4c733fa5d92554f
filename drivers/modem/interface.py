"""The one interface every GSM modem backend offers the SMS gateway.

A backend sends one PDU at a time and says, for every failure, whether a
retry may help (:attr:`ModemError.temporary`) and whether the SMS may have
left anyway (:attr:`ModemError.maybe_sent`: the PDU was written but the
answer never came).  The outbox decides what to do with that; the modem
never retries on its own, so every attempt is on the record.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from appliance.drivers.modem.pdu import Part, StatusReport
from appliance.errors import HardwareError

# +CMS ERROR codes (3GPP TS 27.005 §3.2.5 and TS 24.011 causes) after which
# sending the same PDU again cannot succeed: the number or the PDU itself is
# refused.  Every other code (38 network out of order, 42 congestion, 500
# unknown, 331 no network...) is worth a retry later; the outbox's attempt
# limit still ends a hopeless case in the dead-letter list.
PERMANENT_CMS = frozenset(
    {1, 8, 10, 21, 28, 29, 30, 50, 69, 96, 97, 98, 99, 111, 127, 303, 304, 305}
)


class ModemError(HardwareError):
    """A modem failure.

    ``fault`` is a short code shown on the gateway's status: ``no_sim``,
    ``no_network``, ``timeout``, ``unplugged``, ``rejected`` (a +CMS/+CME
    error), ``garbage`` (an answer that makes no sense).
    """

    def __init__(
        self,
        fault: str,
        message: str,
        *,
        temporary: bool = True,
        cms: int | None = None,
        cme: int | None = None,
        maybe_sent: bool = False,
    ) -> None:
        self.fault = fault
        self.temporary = temporary
        self.cms = cms
        self.cme = cme
        self.maybe_sent = maybe_sent
        super().__init__(message)

    @property
    def code_text(self) -> str:
        if self.cms is not None:
            return f"+CMS ERROR {self.cms}"
        if self.cme is not None:
            return f"+CME ERROR {self.cme}"
        return self.fault


def cms_error(code: int) -> ModemError:
    permanent = code in PERMANENT_CMS
    kind = "refused for good" if permanent else "temporary failure"
    return ModemError("rejected", f"+CMS ERROR {code} ({kind})", temporary=not permanent, cms=code)


@dataclass(frozen=True)
class Health:
    """What the modem said about itself at start-up or in a health check."""

    sim_ready: bool
    registration: int  #: +CREG <stat>: 1 home, 5 roaming, 0/2/3/4 not registered
    signal: int  #: +CSQ <rssi>: 0–31, 99 unknown

    @property
    def registered(self) -> bool:
        return self.registration in (1, 5)

    @property
    def faults(self) -> list[tuple[str, str]]:
        out = []
        if not self.sim_ready:
            out.append(("no_sim", "the modem reports no SIM card (or a locked one)"))
        elif not self.registered:
            out.append(("no_network", f"not registered on the network (+CREG {self.registration})"))
        return out


class Modem(abc.ABC):
    """A GSM modem that sends SMS-SUBMIT PDUs and reports their delivery."""

    @abc.abstractmethod
    def start(self) -> Health:
        """Open the device, put it in PDU mode with delivery reports on, and
        return its health.  Raises :class:`ModemError` (``no_sim``,
        ``no_network``, ``unplugged``, ``timeout``)."""

    @abc.abstractmethod
    def health(self) -> Health:
        """Ask again: SIM, registration and signal."""

    @abc.abstractmethod
    def send(self, part: Part) -> int:
        """Send one part; return the message reference (+CMGS: <mr>)."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[StatusReport]:
        """Delivery reports that arrived (waiting up to ``timeout`` for one)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; :meth:`start` opens it again."""
