"""SMS requests at the master: phone numbers, stages and the stage-event outbox.

A clerk (or the back office) registers a citizen's phone for a ticket
(``cmd/request/register``) and moves the request through its stages
(``cmd/request/stage``).  The master emits a stage event for each stage:
``issued`` when the phone is registered, ``near`` when ``sms.near_turn`` or
fewer people are ahead, ``called`` with the window, and whatever stage the
back office sets (``received``, ``review``, ``ready``, ``completed`` and the
centre's own from ``sms.templates``).

Stage events are written in the same transaction as their cause, then
published on ``event/stage`` until the gateway acknowledges each one
(``cmd/request/ack``) after storing it in its own outbox: at least once,
and the gateway drops repeats by event id.  That event is the only bus
message that carries a full phone number; every answer shows it masked.
Phone numbers are deleted ``sms.retention_days`` after the request's last change.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..bus.client import BusClient
from ..config.branch import Config
from ..errors import QueueError
from ..queue import QueueEngine, Ticket, TicketState
from ..sms import phone
from .commands import Call, Command, Handler, Outcome

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/-]{0,39}")


class Requests:
    """The master's SMS requests; runs on the master's worker thread only."""

    def __init__(
        self,
        config: Config,
        store: Store,
        bus: BusClient,
        engine: Callable[[], QueueEngine],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.db = store.db
        self.bus = bus
        self.engine = engine
        self.clock = clock
        self.windows = {c.id: c.number for c in config.counters}
        self._last_purge = 0.0
        #: Each gateway's last status (``status/sms-gateway/<unit>``): online or not.
        self.gateways: dict[str, bool] = {}

    # -- commands --------------------------------------------------------------------
    def commands(self) -> dict[tuple[str, str], Command]:
        """The ``cmd/request/*`` commands, entries of the master's command table."""
        anything = (object, True)
        return {
            ("request", "register"): Command(
                self._sms(self._register),
                {"phone": anything, "ticket": anything, "ref": (object, False)},
            ),
            ("request", "stage"): Command(
                self._sms(self._stage), {"ref": anything, "stage": anything}
            ),
            ("request", "test"): Command(self._sms(self._test), {"phone": anything}),
            ("request", "ack"): Command(
                self._ack, {"event": (object, False), "error": (object, False)}, answerless=True
            ),
        }

    def _sms(self, handler: Callable[[str, dict[str, Any], float], dict[str, Any]]) -> Handler:
        def command(c: Call) -> Outcome:
            if self.config.sms is None:
                raise QueueError("sms_disabled", "this branch has no [sms] section")
            return Outcome(handler(c.command_id, c.args, c.now))

        return command

    def _register(self, cid: str, p: dict[str, Any], now: float) -> dict[str, Any]:
        number = _phone(p.get("phone"))
        ticket = self._find_ticket(p.get("ticket"))
        ref = p.get("ref") or f"{ticket.business_day.replace('-', '')}-{ticket.label}"
        if not isinstance(ref, str) or not REF.fullmatch(ref):
            raise QueueError("bad_request", f"a reference must match {REF.pattern}")
        row = self.db.execute("SELECT ticket_id FROM sms_requests WHERE ref = ?", (ref,)).fetchone()
        if row is not None and row[0] != ticket.id:
            raise QueueError("ref_in_use", f"reference {ref!r} belongs to another ticket")
        self.db.execute(
            "INSERT INTO sms_requests (ref, ticket_id, ticket, phone, stage, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'issued', ?, ?) ON CONFLICT(ref) DO UPDATE SET"
            " phone = excluded.phone, updated_at = excluded.updated_at",
            (ref, ticket.id, ticket.label, number, now, now),
        )
        self._emit(ref, "issued", f"stage:{ref}:issued:{ticket.id}", now)
        if ticket.state is TicketState.WAITING and self._ahead(ticket) <= self._near_turn():
            # Already near: the 'issued' SMS says so; no second one a moment later.
            self._mark_emitted(ref, "near", ticket.id, now)
        log.info("request %s for ticket %s registered to %s", ref, ticket.label, phone.mask(number))
        return {"request": self._view(ref)}

    def _stage(self, cid: str, p: dict[str, Any], now: float) -> dict[str, Any]:
        ref, stage = p.get("ref"), p.get("stage")
        if not isinstance(ref, str) or not isinstance(stage, str):
            raise QueueError("bad_request", "'ref' and 'stage' must be strings")
        assert self.config.sms is not None
        known = self.config.sms.all_templates
        if stage not in known:
            raise QueueError(
                "unknown_stage", f"no stage {stage!r}; known: {', '.join(sorted(known))}"
            )
        if self.db.execute("SELECT 1 FROM sms_requests WHERE ref = ?", (ref,)).fetchone() is None:
            raise QueueError("unknown_request", f"no request with reference {ref!r}")
        self.db.execute(
            "UPDATE sms_requests SET stage = ?, updated_at = ? WHERE ref = ?", (stage, now, ref)
        )
        event_id = self._emit(ref, stage, f"stage:{cid}", now)
        return {"request": self._view(ref), "event": event_id}

    def _test(self, cid: str, p: dict[str, Any], now: float) -> dict[str, Any]:
        number = _phone(p.get("phone"))
        event = {
            "id": f"test:{cid}",
            "ref": "test",
            "stage": "test",
            "phone": number,
            "ticket": None,
            "window": None,
            "at": now,
        }
        self._store_event(event, now)
        return {"event": event["id"], "phone": phone.mask(number)}

    def _ack(self, c: Call) -> Outcome:
        event_id = c.args.get("event")
        if not isinstance(event_id, str):
            raise QueueError("bad_request", "a stage acknowledgement needs its 'event' id")
        error = c.args.get("error") if isinstance(c.args.get("error"), str) else None
        self.db.execute(
            "UPDATE sms_stage_events SET acked_at = ?, error = ? WHERE id = ? AND acked_at IS NULL",
            (c.now, error, event_id),
        )
        if error:
            log.warning("the gateway refused stage event %s: %s", event_id, error)
        return Outcome({})

    # -- hooks from the master daemon --------------------------------------------------
    def after_change(self, engine: QueueEngine, calls: list[Ticket], now: float) -> None:
        """Inside the command's transaction: 'called' and 'near' events it caused.

        A database error aborts the command as any other would; a bug here
        must not stop the queue, so anything else is logged and skipped.
        """
        if self.config.sms is None:
            return
        try:
            with self.store.transaction():  # a savepoint: all of them or none
                self._stage_events_for(engine, calls, now)
        except sqlite3.Error:
            raise
        except Exception:
            log.exception("SMS stage events for this command could not be made")

    def _stage_events_for(self, engine: QueueEngine, calls: list[Ticket], now: float) -> None:
        for t in calls:
            for ref in self._refs_for(t, engine):
                if t.recalls == 0:
                    self._emit(ref, "called", f"stage:{ref}:called:{t.id}", now, t)
        # Only requests of the last two days can still wait in the queue.
        rows = self.db.execute(
            "SELECT ref, ticket_id FROM sms_requests AS r WHERE created_at >= ? AND NOT EXISTS"
            " (SELECT 1 FROM sms_stage_events AS e WHERE e.ref = r.ref"
            " AND e.stage IN ('near', 'called'))",
            (now - 2 * 86400,),
        ).fetchall()
        for ref, tid in rows:
            ticket = _follow(engine, tid)
            waiting = ticket is not None and ticket.state is TicketState.WAITING
            if ticket is not None and waiting and self._ahead(ticket, engine) <= self._near_turn():
                self._emit(ref, "near", f"stage:{ref}:near:{ticket.id}", now, ticket)

    def gateway_status(self, unit: str, online: bool) -> None:
        """A gateway's retained status changed: send what waits once it is up."""
        self.gateways[unit] = online
        if online:
            self.publish(force=True)

    def publish(self, *, force: bool = False) -> None:
        """Publish stage events not yet acknowledged (again after ``resend``).

        Only while a gateway says it is online, and each copy expires in the
        broker before the next is sent: at most one copy of a phone number
        waits in a gateway's persistent session (docs/security.md).
        """
        if self.config.sms is None or not any(self.gateways.values()):
            return
        now = self.clock()
        resend = self.config.sms.resend_unacked_s
        cutoff = now if force else now - resend
        rows = self.db.execute(
            "SELECT seq, payload FROM sms_stage_events WHERE acked_at IS NULL"
            " AND (sent_at IS NULL OR sent_at <= ?) ORDER BY seq LIMIT 100",
            (cutoff,),
        ).fetchall()
        if not rows or not self.bus.connected:
            return
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.MessageExpiryInterval = max(1, math.floor(resend))
        for _, payload in rows:
            self.bus.publish(
                self.bus.topics.event("stage"), json.loads(payload), qos=1, properties=props
            )
        with self.store.transaction(replicate=False):
            self.db.executemany(
                "UPDATE sms_stage_events SET sent_at = ? WHERE seq = ?", [(now, s) for s, _ in rows]
            )

    def housekeeping(self, now: float) -> None:
        self.publish()
        if self.config.sms is None or now - self._last_purge < 3600:
            return
        self._last_purge = now
        before = now - self.config.sms.retention_days * 86400
        self.store.delete_in_steps("sms_stage_events", "created_at < ?", (before,))
        n = self.store.delete_in_steps("sms_requests", "updated_at < ?", (before,))
        if n:
            log.info("purged %d SMS request(s) and their phone numbers", n)

    # -- helpers -------------------------------------------------------------------------
    def _near_turn(self) -> int:
        return self.config.sms.near_turn if self.config.sms else 0

    def _ahead(self, ticket: Ticket, engine: QueueEngine | None = None) -> int:
        return (engine or self.engine()).estimate_for(ticket.id).people_ahead

    def _find_ticket(self, key: object) -> Ticket:
        engine = self.engine()
        if isinstance(key, int) and not isinstance(key, bool):
            return engine.ticket(key)
        if not isinstance(key, str) or not key.strip():
            raise QueueError("bad_request", "'ticket' must be a ticket number such as A001")
        label = key.strip().upper()
        found = [
            t
            for t in engine.state.tickets.values()
            if t.label == label and t.state in (TicketState.WAITING, TicketState.CALLED)
        ]
        if not found:
            raise QueueError("unknown_ticket", f"no waiting or called ticket {label} today")
        return max(found, key=lambda t: t.id)

    def _refs_for(self, t: Ticket, engine: QueueEngine) -> list[str]:
        ids = [t.id]
        origin = t.origin_id
        while origin is not None:  # a transferred ticket keeps its request
            ids.append(origin)
            origin = (
                engine.state.tickets[origin].origin_id if origin in engine.state.tickets else None
            )
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT ref FROM sms_requests WHERE ticket_id IN ({marks})", ids)
        return [r[0] for r in rows]

    def _mark_emitted(self, ref: str, stage: str, tid: int, now: float) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sms_stage_events (id, ref, stage, payload, created_at,"
            " acked_at) VALUES (?, ?, ?, '{}', ?, ?)",
            (f"stage:{ref}:{stage}:{tid}:skipped", ref, stage, now, now),
        )

    def _emit(
        self, ref: str, stage: str, event_id: str, now: float, t: Ticket | None = None
    ) -> str:
        row = self.db.execute(
            "SELECT ticket, phone FROM sms_requests WHERE ref = ?", (ref,)
        ).fetchone()
        window = self.windows.get(t.counter) if t is not None and t.counter else None
        event = {
            "id": event_id,
            "ref": ref,
            "stage": stage,
            "phone": row[1],
            "ticket": row[0],
            "window": window,
            "at": now,
        }
        self._store_event(event, now)
        return event_id

    def _store_event(self, event: dict[str, Any], now: float) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sms_stage_events (id, ref, stage, payload, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (event["id"], event["ref"], event["stage"], json.dumps(event, ensure_ascii=False), now),
        )

    def _view(self, ref: str) -> dict[str, Any]:
        ticket, number, stage = self.db.execute(
            "SELECT ticket, phone, stage FROM sms_requests WHERE ref = ?", (ref,)
        ).fetchone()
        return {"ref": ref, "ticket": ticket, "phone": phone.mask(number), "stage": stage}


def _phone(value: object) -> str:
    if not isinstance(value, str):
        raise QueueError("bad_phone", "'phone' must be a string")
    try:
        return phone.normalize(value)
    except phone.PhoneNumberError as exc:
        raise QueueError("bad_phone", str(exc)) from None


def _follow(engine: QueueEngine, ticket_id: int) -> Ticket | None:
    """The ticket a request's ticket became (transfers make a new ticket)."""
    t = engine.state.tickets.get(ticket_id)
    while t is not None and t.state is TicketState.TRANSFERRED:
        t = next((x for x in engine.state.tickets.values() if x.origin_id == t.id), None)
    return t
