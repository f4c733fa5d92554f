"""The SMS gateway daemon: stage events from the bus into the outbox, and
from the outbox to the modem.

Three threads, none blocking another: paho's network thread only queues the
stage events it receives; the worker stores each in the outbox (one durable
commit) and only then acknowledges it to the master; the sender drives the
modem.  The MQTT session is persistent (``clean_start=False`` with a session
expiry), so events published while the gateway was down are waiting for it,
and the master publishes again whatever was not acknowledged.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from ..bus.client import BusClient, Message, new_command_id
from ..config.branch import Config
from ..drivers.modem import Modem, open_modem
from ..drivers.modem.pdu import PduError
from ..drivers.modem.sim import SimulatedModem
from ..errors import ConfigError
from ..systemd import Notifier
from . import phone
from .config import SmsGateway, field_values, render
from .outbox import Outbox
from .sender import Sender

log = logging.getLogger(__name__)

MAX_EVENT = 8 * 1024
#: The role in status topics and broker accounts (appliance/tech/accounts.py).
ROLE = "sms-gateway"


class EventError(ValueError):
    """A stage event the gateway cannot turn into an SMS."""


class Gateway:
    def __init__(
        self,
        config: Config,
        *,
        broker_url: str | None = None,
        modem: Modem | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.sms is None:
            raise ConfigError([("sms", "this branch has no [sms] section: no SMS gateway")])
        self.config = config
        self.settings: SmsGateway = config.sms
        self.clock = clock
        s = self.settings
        self.sim: SimulatedModem | None = None
        if modem is None:
            modem, self.sim = open_modem(
                s.modem,
                s.baudrate,
                command_timeout=s.modem_timeout_s,
                send_timeout=s.send_timeout_s,
                sim_record=s.sim_record,
            )
        self.outbox = Outbox(
            s.outbox,
            max_attempts=s.max_attempts,
            backoff_s=s.backoff_s,
            max_backoff_s=s.max_backoff_s,
        )
        self.notifier = Notifier()
        # The sender's loop is the one that does the work: it feeds the watchdog.
        self.sender = Sender(
            self.outbox,
            modem,
            tick=self.notifier.alive,
            rate_per_minute=s.rate_per_minute,
            retention_s=s.retention_days * 86400.0,
            clock=clock,
        )
        self.bus = BusClient(config, role=ROLE, unit=s.unit, broker_url=broker_url, persistent=True)
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.rejected = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_status: dict[str, Any] | None = None
        self._status_lock = threading.Lock()

    # -- events ------------------------------------------------------------------------
    def render(self, event: dict[str, Any]) -> tuple[str, str, str]:
        """``(event id, E.164 number, text)`` of a stage event, or EventError."""
        event_id, stage = event.get("id"), event.get("stage")
        if not isinstance(event_id, str) or not event_id or len(event_id) > 200:
            raise EventError("a stage event needs a string 'id'")
        if not isinstance(stage, str):
            raise EventError("a stage event needs a string 'stage'")
        template = self.settings.all_templates.get(stage)
        if template is None:
            raise EventError(f"no template for stage {stage!r} in this gateway's configuration")
        try:
            number = phone.normalize(event.get("phone"))  # type: ignore[arg-type]
        except phone.PhoneNumberError as exc:
            raise EventError(str(exc)) from None
        values = field_values(
            self.config, event.get("ticket"), event.get("ref"), event.get("window")
        )
        return event_id, number, render(template, values)

    def handle_event(self, msg: Message) -> None:
        """Store one stage event, then acknowledge it (worker thread)."""
        event_id: str | None = None
        try:
            if len(msg.payload) > MAX_EVENT:
                raise EventError(f"stage event over {MAX_EVENT} bytes")
            event = msg.json()
            raw_id = event.get("id")
            event_id = raw_id if isinstance(raw_id, str) else None
            event_id, number, text = self.render(event)
            mid = self.outbox.enqueue(event_id, number, text, self.clock())
        except (EventError, ValueError, PduError) as exc:
            # Acknowledged with the reason: resending it would not help, and the
            # master logs it.  Nothing here is silent.
            self.rejected += 1
            log.error("stage event %s refused: %s", event_id or "(no id)", exc)
            if event_id:
                self._ack(event_id, str(exc))
            self.publish_status()
            return
        if mid is None:
            log.info("stage event %s again: already in the outbox", event_id)
        else:
            log.info("stage event %s → SMS %d to %s", event_id, mid, phone.mask(number))
            self.sender.wake.set()
        self._ack(event_id, None)

    def _ack(self, event_id: str, error: str | None) -> None:
        body: dict[str, Any] = {"id": new_command_id(self.settings.unit), "event": event_id}
        if error:
            body["error"] = error
        self.bus.publish(self.bus.topics.request_cmd(self.bus.sender, "ack"), body, qos=1)

    # -- status ------------------------------------------------------------------------
    def publish_status(self, force: bool = False) -> None:
        status = self.sender.status()
        status["rejected_events"] = self.rejected
        faults = [{"code": c, "message": m} for c, m in self.sender.faults]
        dead = status["outbox"]["dead"]
        if dead:
            faults.append({"code": "dead_letters", "message": f"{dead} SMS could not be sent"})
        state = "degraded" if faults else "online"
        snapshot = {"state": state, "faults": faults, **status}
        with self._status_lock:
            if snapshot == self._last_status and not force:
                return
            self._last_status = snapshot
        self.bus.set_status(state, faults, **status)

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        self.bus.subscribe(self.bus.topics.event("stage"), self.inbox.put, qos=1)
        self.bus.on_connect(lambda: self.publish_status(force=True))
        self.bus.start()
        self._threads = [
            threading.Thread(target=self._work, name="sms-events", daemon=True),
            threading.Thread(
                target=self.sender.run,
                args=(self._stop, self.publish_status),
                name="sms-sender",
                daemon=True,
            ),
        ]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.handle_event(msg)
            except Exception:  # the gateway keeps running; the master will resend
                log.exception("stage event handling failed")

    def stop(self) -> None:
        self._stop.set()
        self.sender.wake.set()

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        log.info("SMS gateway %s for branch %s", self.settings.unit, self.config.branch.id)
        self.notifier.ready(f"SMS gateway {self.settings.unit}, modem {self.settings.modem}")
        try:
            self._stop.wait()
        finally:
            self.notifier.stopping()
            for t in self._threads:
                t.join(10)
            self.bus.stop()
            self.sender.modem.close()
            self.outbox.close()
            if self.sim is not None:
                self.sim.stop()
