"""The master daemon: applies commands from the bus to the queue, durably.

One worker thread owns the engine and the database.  paho's network thread
only puts messages on :attr:`MasterDaemon.inbox`; the worker takes them one
at a time, applies each in one SQLite transaction together with its command
id and its events, answers, then publishes the retained state it changed
and the events from the outbox.
"""

from __future__ import annotations

import logging
import queue
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from paho.mqtt.client import MQTTMessageInfo
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..bus.client import BusClient, Message
from ..clock import Clock
from ..config.branch import Config
from ..errors import QueueError
from ..queue import Changes, QueueEngine
from ..systemd import Notifier
from .commands import COMMANDS, command_id, parse_args
from .requests import Requests
from .store import Store
from .views import Views

log = logging.getLogger(__name__)

#: Seconds the broker keeps a call event for a subscriber that is away
#: (MQTT v5 message expiry): the hall display's persistent session.
CALL_EXPIRY_S = 120

MAX_PAYLOAD = 64 * 1024
HOUSEKEEPING_S = 1.0


@dataclass
class _Task:
    kind: str  # "command" | "republish"
    message: Message | None = None


class MasterDaemon:
    """The branch's single writer of queue state."""

    def __init__(
        self,
        config: Config,
        *,
        db_path: str,
        broker_url: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = Store(db_path)
        self.engine = self._load_engine()
        self.views = Views(config, self.engine)
        self.bus = BusClient(
            config,
            role="master",
            unit=config.master.unit,
            broker_url=broker_url,
            persistent=True,
        )
        # SMS requests and stage events (appliance/master/requests.py).
        self.requests = Requests(config, self.store, self.bus, lambda: self.engine, clock)
        self.inbox: queue.Queue[_Task] = queue.Queue()
        self._inflight: list[tuple[int, MQTTMessageInfo]] = []
        self._stop = threading.Event()
        self._last_purge = 0.0
        self.topics = self.bus.topics
        self.notifier = Notifier()

    # -- state ------------------------------------------------------------
    def _new_engine(self, state: Any = None) -> QueueEngine:
        c = self.config
        return QueueEngine(c.branch, c.services, c.counters, c.policy, state=state)

    def _keep_days(self) -> set[str]:
        probe = self._new_engine()
        now = self.clock()
        return {probe.business_day(now), probe.business_day(now - 86400)}

    def _load_engine(self) -> QueueEngine:
        return self._new_engine(self.store.load_state(self._keep_days()))

    def _reload(self) -> None:
        """Throw away the in-memory state and take the committed one."""
        self.engine = self._load_engine()
        self.views.engine = self.engine

    # -- lifecycle --------------------------------------------------------
    def start(self) -> None:
        self.bus.on_connect(lambda: self.inbox.put(_Task("republish")))
        self.bus.subscribe(
            self.topics.all_commands, lambda m: self.inbox.put(_Task("command", m)), qos=1
        )
        self.bus.start()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM / SIGINT in the main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        log.info("master %s serving branch %s", self.config.master.unit, self.config.branch.id)
        # Ready once the database is open and the bus is started: commands
        # sent before the broker answers wait in the persistent session.
        self.notifier.ready(f"serving branch {self.config.branch.id}")
        try:
            while not self._stop.is_set():
                self.notifier.alive()
                try:
                    task = self.inbox.get(timeout=HOUSEKEEPING_S)
                except queue.Empty:
                    task = None
                try:
                    if task is not None and task.kind == "command" and task.message is not None:
                        self.handle(task.message)
                    elif task is not None and task.kind == "republish":
                        self.republish()
                    self.housekeeping()
                except Exception:
                    # Never die on one bad message: log it once and go on.
                    log.exception("master loop error")
        finally:
            self.notifier.stopping()
            self.bus.stop()
            self.store.close()

    # -- commands ---------------------------------------------------------
    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        self.bus.reply(msg, body)

    def _error(self, msg: Message, code: str, message: str) -> None:
        log.info("refused %s: %s (%s)", msg.topic, message, code)
        self._answer(msg, {"ok": False, "error": {"code": code, "message": message}})

    def handle(self, msg: Message) -> None:
        if len(msg.payload) > MAX_PAYLOAD:
            self._error(msg, "too_large", f"payload over {MAX_PAYLOAD} bytes")
            return
        try:
            group, action, counter = self.topics.parse_command(msg.topic)
        except ValueError as exc:
            self._error(msg, "unknown_command", str(exc))
            return
        if group == "request":  # SMS: cmd/request/register, stage, test, ack
            self.requests.handle(msg, action)
            return
        command = COMMANDS.get((group, action))
        if command is None:
            self._error(msg, "unknown_command", f"no command {group}/{action}")
            return
        try:
            payload = msg.json()
        except ValueError as exc:
            self._error(msg, "bad_json", str(exc))
            return
        try:
            cid = command_id(payload)
            if command.needs_counter and counter not in self.views.windows:
                raise QueueError("unknown_counter", f"no counter {counter!r} in this branch")
            args = parse_args(command, payload)
        except QueueError as exc:
            self._error(msg, exc.code, exc.message)
            return
        name = f"{group}/{counter}/{action}" if counter else f"{group}/{action}"
        if command.mutates:
            prior = self.store.applied(cid)
            if prior is not None:
                prior_name, prior_answer = prior
                if prior_name != name:
                    self._error(msg, "id_reused", f"command id {cid!r} was used for {prior_name}")
                else:
                    self._answer(msg, prior_answer)  # a retry: the first answer again
                return
        now = self.clock()
        if command.mutates:
            self._roll_day(now)
        try:
            outcome = command.handler(self.engine, self.views, args, counter, now)
        except QueueError as exc:
            self.engine.take_changes()  # a refused operation changes nothing
            self._error(msg, exc.code, exc.message)
            return
        answer = {"ok": True, "result": outcome.result}
        if not command.mutates:
            self._answer(msg, answer)
            return
        changes = self.engine.take_changes()
        events = [self.views.call_event(t, now) for t in outcome.calls]
        try:
            with self.store.transaction():
                self.store.write_changes(self.engine.state, changes)
                self.store.record_command(cid, name, answer, now)
                for event in events:
                    self.store.add_event(event["id"], "call", event, now)
                self.requests.after_change(self.engine, outcome.calls, now)  # SMS stage events
        except sqlite3.Error as exc:
            log.exception("could not commit %s", name)
            self._reload()
            self._error(msg, "storage", f"the master could not save the change: {exc}")
            return
        self._answer(msg, answer)
        self.publish_changes(changes)
        if events:
            self.publish_events()
        self.requests.publish()  # SMS stage events

    def _roll_day(self, now: float) -> None:
        """Close the previous business day's leftovers before anything else."""
        voided = self.engine.roll_day(now)
        changes = self.engine.take_changes()
        if not (voided or changes.tickets or changes.counters):
            return
        with self.store.transaction():
            self.store.write_changes(self.engine.state, changes)
        # Yesterday's finished tickets stay in memory for late feedback.
        self.engine.forget_before(self.engine.business_day(now - 86400))
        log.info("new business day: %d ticket(s) of earlier days closed", len(voided))
        self.publish_changes(changes)

    # -- publishing -------------------------------------------------------
    def _affected_services(self, changes: Changes) -> set[str]:
        services = set(changes.service_times)
        for tid in changes.tickets:
            t = self.engine.state.tickets.get(tid)
            if t is not None:
                services.add(t.service)
        for cid in changes.counters:
            services.update(self.config.counter(cid).services)
        return services

    def publish_changes(self, changes: Changes) -> None:
        counters = set(changes.counters)
        for tid in changes.tickets:
            t = self.engine.state.tickets.get(tid)
            if t is not None and t.counter:
                counters.add(t.counter)
        for cid in sorted(counters):
            self.bus.publish(self.topics.counter_state(cid), self.views.counter(cid), retain=True)
        for sid in sorted(self._affected_services(changes)):
            self.bus.publish(self.topics.service_state(sid), self.views.service(sid), retain=True)

    def publish_events(self) -> None:
        inflight = {seq for seq, _ in self._inflight}
        for seq, kind, payload in self.store.unpublished_events():
            if seq not in inflight:
                props = None
                if kind == "call":
                    # A call waits in the broker for a display that is
                    # restarting, but not for one switched off since
                    # yesterday: it would announce long-gone citizens.
                    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                    props.MessageExpiryInterval = CALL_EXPIRY_S
                info = self.bus.publish(self.topics.event(kind), payload, qos=1, properties=props)
                self._inflight.append((seq, info))

    def republish(self) -> None:
        """After (re)connecting: all retained state, and events not yet out."""
        for c in self.config.counters:
            self.bus.publish(self.topics.counter_state(c.id), self.views.counter(c.id), retain=True)
        for s in self.config.services:
            self.bus.publish(self.topics.service_state(s.id), self.views.service(s.id), retain=True)
        self._inflight.clear()
        self.publish_events()
        self.requests.publish(force=True)  # SMS stage events not yet acknowledged

    def housekeeping(self) -> None:
        done = [seq for seq, info in self._inflight if info.is_published()]
        if done:
            self.store.mark_published(done)
            self._inflight = [(s, i) for s, i in self._inflight if s not in set(done)]
        now = self.clock()
        if now - self._last_purge > 3600:
            self._last_purge = now
            days = self.config.master.command_retention_days
            self.store.purge_commands(now - days * 86400)
            self._roll_day(now)
        self.requests.housekeeping(now)  # SMS: resend unacknowledged, purge old phones
