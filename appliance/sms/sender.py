"""The sender: takes due messages from the outbox to the modem, one part at
a time, and applies delivery reports.

It runs on its own thread and never gives up: a modem that is unplugged, has
no SIM or no network is restarted on the next round while the messages wait
in the outbox.  Faults of the modem do not count against a message's
attempts; errors about the message itself (+CMS ERROR 38, 42, 500...) do, and
a message that used them all goes to the dead letters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..drivers.modem.interface import Health, Modem, ModemError
from ..drivers.modem.pdu import Part, StatusReport
from .outbox import Outbox, OutPart
from .phone import mask

log = logging.getLogger(__name__)

# +CMS errors that say the modem or its SIM/network is unusable, not the message.
MODEM_CMS = frozenset({310, 311, 312, 313, 314, 315, 316, 317, 318, 330, 331, 332})


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        modem: Modem,
        *,
        rate_per_minute: int = 30,
        health_every_s: float = 60.0,
        modem_retry_s: float = 5.0,
        retention_s: float = 30 * 86400.0,
        clock: Callable[[], float] = time.time,
        tick: Callable[[], object] | None = None,
    ) -> None:
        #: Called between modem operations: the systemd watchdog ping.
        self.tick: Callable[[], object] = tick or (lambda: None)
        self.outbox = outbox
        self.modem = modem
        self.rate_per_minute = rate_per_minute
        self.health_every_s = health_every_s
        self.modem_retry_s = modem_retry_s
        self.retention_s = retention_s
        self.clock = clock
        self.health: Health | None = None
        self.faults: list[tuple[str, str]] = [("modem_starting", "the modem is being started")]
        self.wake = threading.Event()
        self._up = False
        self._checked = 0.0
        self._purged = 0.0

    # -- one round -----------------------------------------------------------------
    def step(self) -> float:
        """Do what is due now; return how long nothing needs doing."""
        now = self.clock()
        if now - self._purged > 3600:
            self._purged = now
            if n := self.outbox.purge(now - self.retention_s):
                log.info("purged %d finished messages older than the retention", n)
        try:
            # While the modem reports a fault, ask again every round: a SIM put
            # back or the network regained is noticed within modem_retry_s.
            if not self._up or self.faults or now - self._checked >= self.health_every_s:
                self._check(now)
            if self.faults:
                return self.modem_retry_s
            self.apply_reports(self.modem.poll(0))
        except ModemError as exc:
            self._down(exc)
            return self.modem_retry_s
        for message in self.outbox.due(now):
            for part in self.outbox.unsent_parts(message.id):
                self.tick()
                wait = self._rate_wait(self.clock())
                if wait > 0:
                    return wait
                if not self._send(message.id, message.number, part):
                    if not self._up:
                        return self.modem_retry_s
                    break  # this message waits for its backoff; try the next one
        next_due = self.outbox.next_due()
        return 30.0 if next_due is None else max(0.0, min(30.0, next_due - self.clock()))

    def _check(self, now: float) -> None:
        if not self._up:
            self.health = self.modem.start()
            self._up = True
            log.info(
                "modem ready: signal %s, registration %s",
                self.health.signal,
                self.health.registration,
            )
        else:
            self.health = self.modem.health()
        self._checked = now
        self.faults = self.health.faults

    def _down(self, exc: ModemError) -> None:
        if self._up or [f for f, _ in self.faults] != [exc.fault]:
            log.warning("modem unusable (%s): %s; messages wait in the outbox", exc.fault, exc)
        self.modem.close()
        self._up = False
        self.faults = [(exc.fault, str(exc))]

    def _rate_wait(self, now: float) -> float:
        if self.outbox.accepted_since(now - 60.0) < self.rate_per_minute:
            return 0.0
        return 1.0

    def _send(self, message_id: int, number: str, part: OutPart) -> bool:
        self.outbox.mark_sending(message_id, part.seq)
        try:
            mr = self.modem.send(Part(part.seq, part.total, "", part.pdu, part.length))
        except ModemError as exc:
            modem_fault = exc.fault in ("unplugged", "no_sim") or exc.cms in MODEM_CMS
            state = self.outbox.mark_failed(
                message_id,
                part.seq,
                exc.code_text + (" (may have been sent)" if exc.maybe_sent else ""),
                self.clock(),
                permanent=not exc.temporary,
                counts=not modem_fault,
            )
            log.warning(
                "SMS %d part %d/%d to %s not sent: %s → %s",
                message_id,
                part.seq,
                part.total,
                mask(number),
                exc,
                state,
            )
            if modem_fault or exc.fault in ("timeout", "garbage"):
                self._down(exc)
            return False
        self.outbox.mark_accepted(message_id, part.seq, mr, self.clock())
        log.info(
            "SMS %d part %d/%d to %s accepted (mr %d)",
            message_id,
            part.seq,
            part.total,
            mask(number),
            mr,
        )
        return True

    def apply_reports(self, reports: list[StatusReport]) -> None:
        for r in reports:
            part = self.outbox.mark_report(r.message_ref, r.delivered, r.final, self.clock())
            if part is not None and not r.delivered:
                log.warning(
                    "SMS %d part %d not delivered (TP-ST %#x): sending again",
                    part.message_id,
                    part.seq,
                    r.status,
                )

    # -- the thread ----------------------------------------------------------------
    def run(self, stop: threading.Event, on_round: Callable[[], None] | None = None) -> None:
        while not stop.is_set():
            try:
                wait = self.step()
            except Exception:  # keep sending whatever one round did wrong
                log.exception("sender round failed; retrying")
                wait = self.modem_retry_s
            if on_round:
                on_round()
            deadline = self.clock() + wait
            while not stop.is_set() and not self.wake.is_set():
                self.tick()
                remaining = deadline - self.clock()
                if remaining <= 0:
                    break
                if self._up and not self.faults:
                    try:
                        self.apply_reports(self.modem.poll(min(remaining, 0.5)))
                    except ModemError as exc:
                        self._down(exc)
                else:
                    self.wake.wait(min(remaining, 0.5))
            self.wake.clear()

    def status(self) -> dict[str, Any]:
        return {
            "modem": {
                "signal": self.health.signal if self.health else None,
                "registered": self.health.registered if self.health else False,
            },
            "outbox": self.outbox.status(),
        }
