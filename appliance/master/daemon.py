"""The master daemon: applies commands from the bus to the queue, durably.

One worker thread owns the engine, the database and the bus (appliance/bus/
pump.py): it reads the broker, filing commands in :attr:`MasterDaemon.inbox`,
applies a batch of them in one SQLite transaction, each with its command id
and events, answers, then publishes the retained state it changed and the
outbox's events, all in one write to the broker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import threading
import time
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
from .authority import Authority
from .commands import COMMANDS, Call, command_id, parse_args
from .feed import Feed
from .inbox import Inbox
from .requests import Requests
from .store import Store
from .views import Views

log = logging.getLogger(__name__)

#: Seconds the broker keeps a call event for a subscriber that is away
#: (MQTT v5 message expiry): the hall display's persistent session.
CALL_EXPIRY_S = 120

#: The SMS gateway's role in status topics (appliance/sms/gateway.py).
GATEWAY_ROLE = "sms-gateway"

MAX_PAYLOAD = 64 * 1024

#: Commands taken into one transaction at most (group commit).
MAX_BATCH = 64


class MasterDaemon:
    """The branch's single writer of queue state."""

    tick_s = 1.0  #: seconds between housekeeping rounds (at most)

    def __init__(
        self,
        config: Config,
        *,
        db_path: str,
        broker_url: str | None = None,
        clock: Clock = time.time,
        unit: str | None = None,
    ) -> None:
        self.config = config
        self.unit = unit or config.master.unit  # one of ha.candidates with a standby
        self.clock = clock
        self.store = Store(db_path)
        self.engine = self._load_engine()
        self.views = Views(config, self.engine)
        self.bus = BusClient(
            config, role="master", unit=self.unit, broker_url=broker_url, persistent=True
        )
        # SMS requests and stage events (appliance/master/requests.py).
        self.requests = Requests(config, self.store, self.bus, lambda: self.engine, clock)
        self.commands = {**COMMANDS, **self.requests.commands()}
        self.inbox = Inbox()
        self.feed = Feed(config, self.store, self.bus)  # the central store's (docs/central.md)
        self.authority = Authority(config, self.store, self.bus.topics)
        #: Command ids applied in the transaction being built (group commit).
        self._batch_ids: set[str] = set()
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
        self.bus.on_connect(lambda: self.inbox.put_control("republish"))
        # Retain as published: a command its sender published retained is
        # seen as such even live, and refused (issue 12).
        self.bus.subscribe(
            self.topics.all_commands,
            lambda m: self.inbox.put(self.authority.lane(m), m),
            qos=1,
            retain_as_published=True,
        )
        if self.config.sms is not None:
            self.bus.subscribe(self.topics.role_status(GATEWAY_ROLE), self._gateway_status)
        self.bus.subscribe(self.topics.sync("replay"), self._replay_request)
        self.bus.start(thread=False)  # driven by run()'s loop

    def _replay_request(self, msg: Message) -> None:
        self.inbox.put_control("replay:" + msg.payload[:200].decode("utf-8", "replace"))

    def _gateway_status(self, msg: Message) -> None:
        try:
            online = msg.json().get("state") == "online"
            _, unit = self.topics.parse_status(msg.topic)
        except ValueError:
            online, unit = False, msg.topic
        self.inbox.put_control(f"gateway:{int(online)}:{unit}")

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM / SIGINT in the main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        log.info("master %s serving branch %s", self.unit, self.config.branch.id)
        # Ready once the database is open and the bus is started: commands
        # sent before the broker answers wait in the persistent session.
        self.notifier.ready(f"serving branch {self.config.branch.id}")
        try:
            while not self._stop.is_set():
                self.notifier.alive()
                self.bus.pump(0.0 if len(self.inbox) else self.tick_s)  # fills the inbox
                controls, batch = self.inbox.take(MAX_BATCH, 0.0)
                try:
                    for task in controls:
                        self._control(task)
                    if batch:
                        self.handle_batch(batch)
                    self.housekeeping()
                except Exception:
                    # Never die on one bad message: log it once and go on.
                    log.exception("master loop error")
        finally:
            self.notifier.stopping()
            self.bus.stop()
            self.store.close()

    def _control(self, task: str) -> None:
        if task == "republish":
            self.republish()
        elif task.startswith("replay:"):
            self.feed.replay(task.removeprefix("replay:").encode())
        elif task.startswith("gateway:"):
            _, online, unit = task.split(":", 2)
            self.requests.gateway_status(unit, online == "1")

    # -- commands ---------------------------------------------------------
    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        self.bus.reply(msg, body)

    def handle(self, msg: Message) -> None:
        """Apply one command (a batch of one)."""
        self.handle_batch([msg])

    def handle_batch(self, batch: list[Message]) -> None:
        """Apply ``batch`` in one durable transaction (group commit), then
        answer each command and publish what changed.

        Each command runs in its own savepoint: one that fails is undone
        alone, and the memory is reloaded from the (uncommitted) database,
        which holds exactly the commands before it.
        """
        answers: list[tuple[Message, dict[str, Any], bool]] = []
        self._batch_ids = set()
        changed = Changes()
        try:
            with self.store.transaction():
                for msg in batch:
                    try:
                        applied = self._apply(msg, changed)
                    except Exception as exc:  # a bug outside the command's savepoint
                        log.exception("command on %s failed; state reloaded", msg.topic)
                        self._reload()
                        failed = QueueError("internal", f"the master could not apply it: {exc!r}")
                        has_reply = self.authority.replies_to_sender(msg)
                        applied = (self._refusal(msg, failed), False) if has_reply else None
                    if applied is not None:
                        answers.append((msg, *applied))
        except Exception as exc:  # the transaction failed: nothing of the batch holds
            log.exception("could not commit %d command(s)", len(batch))
            self._reload()
            why = getattr(exc, "message", f"not saved: {exc}")  # a standby's no_quorum too
            lost = {"ok": False, "error": {"code": getattr(exc, "code", "storage"), "message": why}}
            done = {id(m): (a, w) for m, a, w in answers}
            answers = []
            for m in batch:
                body, wrote = done.get(id(m), (lost, True))
                if id(m) in done or self.authority.replies_to_sender(m):
                    answers.append((m, lost if wrote else body, wrote))
            changed = Changes()
        for msg, body, _ in answers:
            self._answer(msg, body)
        if changed:
            self.publish_changes(changed)
        self.publish_events()
        self.requests.publish()  # SMS stage events

    def _apply(self, msg: Message, changed: Changes) -> tuple[dict[str, Any], bool] | None:
        """One command inside the batch's transaction: its answer and whether
        it wrote anything, or None when it gets no answer at all."""
        if msg.retain:
            # A retained command is a replay from the broker, not a live
            # request; clearing it (an empty retained message) comes back too.
            if msg.payload:
                log.warning("retained command on %s ignored and cleared", msg.topic)
                self.bus.publish(msg.topic, b"", retain=True)
            return None
        # The requester is the unit the topic names: the broker lets a unit
        # publish only under its own id (appliance/master/authority.py).
        cmd = self.authority.command(msg)
        command = self.commands.get((cmd.group, cmd.action)) if cmd is not None else None
        if cmd is None:
            log.warning("message on %s refused: not a command topic", msg.topic)
            return None
        if command is not None and command.answerless:
            if not self.authority.may_send(cmd):
                log.warning("command on %s refused: not for a %s", msg.topic, cmd.unit)
                return None
        elif not self.authority.replies_to_sender(msg):
            # Nowhere of the requester's own to answer: refused, nothing applied.
            log.warning("command on %s refused: reply topic %r", msg.topic, msg.response_topic)
            return None
        group, action, counter, requester = cmd.group, cmd.action, cmd.counter, cmd.unit
        try:
            if not self.authority.may_send(cmd):
                raise QueueError("forbidden", f"unit {requester!r} may not send {cmd.name}")
            if len(msg.payload) > MAX_PAYLOAD:
                raise QueueError("too_large", f"payload over {MAX_PAYLOAD} bytes")
            if command is None:
                raise QueueError("unknown_command", f"no command {msg.topic!r}")
            try:
                payload = msg.json()
            except ValueError as exc:
                raise QueueError("bad_json", str(exc)) from None
            args = parse_args(command, payload)
            if command.answerless:
                with self.store.transaction():
                    command.handler(Call(self.engine, self.views, args, None, self.clock()))
                return None
            cid = command_id(payload)
            if command.needs_counter and counter not in self.views.windows:
                raise QueueError("unknown_counter", f"no counter {counter!r} in this branch")
        except QueueError as exc:
            return self._refusal(msg, exc), False
        name = cmd.name
        if not command.mutates:
            call = Call(self.engine, self.views, args, counter, self.clock(), cid)
            return {"ok": True, "result": command.handler(call).result}, False
        digest = hashlib.sha256(
            json.dumps([name, payload], sort_keys=True).encode("ascii")
        ).hexdigest()
        prior = self.store.applied(cid)
        if prior is not None:
            if prior.action != name or (prior.digest is not None and prior.digest != digest):
                reused = QueueError("id_reused", f"command id {cid!r} was used for another command")
                return self._refusal(msg, reused), False
            # A retry: the first answer again (durable only with this batch
            # when the first came in it too).
            return prior.answer, cid in self._batch_ids
        now = self.clock()
        try:
            self.authority.check(self.engine, group, action, requester, args, now)
        except QueueError as exc:
            return self._refusal(msg, exc), False
        try:
            self._roll_day(now, changed)
            with self.store.transaction():
                outcome = command.handler(Call(self.engine, self.views, args, counter, now, cid))
                changes = self.engine.take_changes()
                answer = {"ok": True, "result": outcome.result}
                events = [self.views.call_event(t, now) for t in outcome.calls]
                self.store.write_changes(self.engine.state, changes, action=name, now=now)
                issued = outcome.result.get("ticket") if name == "ticket/issue" else None
                self.store.record_command(
                    cid,
                    name,
                    answer,
                    now,
                    digest=digest,
                    requester=requester,
                    ticket_id=issued["id"] if isinstance(issued, dict) else None,
                )
                self._batch_ids.add(cid)
                for event in events:
                    self.store.add_event(event["id"], "call", event, now)
                self.requests.after_change(self.engine, outcome.calls, now)  # SMS stage events
        except QueueError as exc:
            if self.engine.take_changes():  # a refusal must leave nothing behind
                self._reload()
            return self._refusal(msg, exc), False
        except Exception as exc:
            # Whatever it was, memory must equal the database again.
            log.exception("command %s failed; state reloaded from the database", name)
            self._reload()
            failed = QueueError("internal", f"the master could not apply it: {exc!r}"[:300])
            return self._refusal(msg, failed), False
        changed.merge(changes)
        if name == "ticket/issue":
            self.authority.issued(requester)
        return answer, True

    def _refusal(self, msg: Message, exc: QueueError) -> dict[str, Any]:
        log.info("refused %s: %s (%s)", msg.topic, exc.message, exc.code)
        return {"ok": False, "error": {"code": exc.code, "message": exc.message}}

    def _roll_day(self, now: float, changed: Changes | None = None) -> None:
        """Close the previous business day's leftovers before anything else."""
        voided = self.engine.roll_day(now)
        changes = self.engine.take_changes()
        if not (voided or changes.tickets or changes.counters):
            return
        try:
            with self.store.transaction():
                self.store.write_changes(self.engine.state, changes, action="day/close", now=now)
        except Exception:
            self._reload()
            raise
        # Yesterday's finished tickets stay in memory for late feedback.
        self.engine.forget_before(self.engine.business_day(now - 86400))
        log.info("new business day: %d ticket(s) of earlier days closed", len(voided))
        if changed is None:
            self.publish_changes(changes)
            self.publish_events()
        else:
            changed.merge(changes)

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

    def publish_events(self, *, everything: bool = False) -> None:
        """The central feed's changes, and the outbox's events not yet out."""
        self.feed.publish()
        inflight = {seq for seq, _ in self._inflight}
        for seq, kind, payload in self.store.unpublished_events(if_added=not everything):
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
        self.publish_events(everything=True)
        self.feed.republish()
        self.requests.publish(force=True)  # SMS stage events not yet acknowledged

    def housekeeping(self) -> None:
        done = [seq for seq, info in self._inflight if info.is_published()]
        if done:
            self.store.mark_published(done)
            self._inflight = [(s, i) for s, i in self._inflight if s not in set(done)]
        now = self.clock()
        if now - self._last_purge > 3600:
            self._last_purge = now
            self.authority.rate.forget_idle()
            days = self.config.master.command_retention_days
            self.store.purge_commands(now - days * 86400)
            self._roll_day(now)
        self.requests.housekeeping(now)  # SMS: resend unacknowledged, purge old phones
