"""The central store's feed: every change of a ticket, numbered, from SQLite.

Each change of a ticket (issue, call, recall, serve, no-show, transfer,
void, rating) is a row of ``ticket_changes``, written in the transaction
that made it (:meth:`Store.write_changes`).  After the commit the master
publishes the new rows on ``sync/change``, a commit's changes in one
message, and the last number, retained, on ``sync/head``; the branch's
bridge carries both to the central broker (docs/central.md).  The bridge is transport, never the record: what it drops
the centre finds as a hole in the numbers, or behind the head, and asks for
again on ``sync/replay``; the master answers from its database.

A change carries the ticket as it is after the change, never a phone number.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..bus.client import BusClient, Message, encode
from ..config.branch import Config
from .store import Store

log = logging.getLogger(__name__)

#: Changes sent for one replay request at most; the centre asks again for more.
REPLAY_BATCH = 500
#: A replay request this soon after the previous one is ignored.
REPLAY_REPEAT_S = 0.5
#: Changes in one ``sync/change`` message at most, and its size: well within
#: what the centre takes (appliance/central/changes.py, 64 in 64 KiB).
MESSAGE_CHANGES = 32
MESSAGE_BYTES = 32 * 1024


def branch_info(config: Config) -> dict[str, Any]:
    """The branch's names and services, for the centre (``sync/branch``)."""
    b = config.branch
    return {
        "branch": b.id,
        "name_ar": b.name_ar,
        "name_en": b.name_en,
        "timezone": b.timezone,
        "day_reset_hour": b.day_reset_hour,
        "services": [
            {"service": s.id, "prefix": s.prefix, "name_ar": s.name_ar, "name_en": s.name_en}
            for s in config.services
        ],
    }


class Feed:
    """Publishes the changes the master committed, and answers replays.

    Used by the master's worker thread only (it owns the database)."""

    def __init__(self, config: Config, store: Store, bus: BusClient) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.topics = bus.topics
        #: The last number published live; at start, what the database holds
        #: (rows committed and never published are found by the centre
        #: behind the head, and replayed).
        self.sent = store.last_change_seq()
        self._last_replay: tuple[int, float] = (0, 0.0)

    def _publish(self, rows: list[tuple[int, int, str, float, str]], replay: bool = False) -> None:
        """``rows`` in as few messages as the centre takes (``{"changes": [...]}``,
        at most MESSAGE_CHANGES changes in MESSAGE_BYTES): a commit's changes
        in one message, not one each (docs/central.md)."""
        changes: list[bytes] = []
        size = 0
        for seq, _ticket_id, kind, at, ticket in rows:
            body = {"seq": seq, "kind": kind, "at": at, "ticket": json.loads(ticket)}
            change = encode(body)
            if changes and (len(changes) == MESSAGE_CHANGES or size + len(change) > MESSAGE_BYTES):
                self._send(changes, replay)
                changes, size = [], 0
            changes.append(change)
            size += len(change) + 1
        if changes:
            self._send(changes, replay)

    def _send(self, changes: list[bytes], replay: bool) -> None:
        tail = b',"replay":true}' if replay else b"}"
        payload = b'{"changes":[' + b",".join(changes) + b"]" + tail
        self.bus.publish(self.topics.sync("change"), payload, qos=1)

    def publish_head(self) -> None:
        head = {"seq": self.store.last_change_seq(), "at": time.time()}
        self.bus.publish(self.topics.sync("head"), head, qos=1, retain=True)

    def publish(self) -> None:
        """After a commit: the new changes, then the head."""
        rows = self.store.ticket_changes(self.sent + 1, REPLAY_BATCH * 4)
        if not rows:
            return
        self._publish(rows)
        self.sent = rows[-1][0]
        self.publish_head()

    def republish(self) -> None:
        """After (re)connecting: the branch's description and the head."""
        self.bus.publish(self.topics.sync("branch"), branch_info(self.config), retain=True)
        self.publish_head()

    def replay(self, payload: bytes) -> None:
        """A replay request from the centre: ``{"from": N}``."""
        try:
            first = Message("", payload).json().get("from")
        except ValueError:
            first = None
        if not isinstance(first, int) or isinstance(first, bool) or first < 1:
            log.warning("replay request refused: %r", payload[:100])
            return
        now = time.monotonic()
        if now - self._last_replay[1] < REPLAY_REPEAT_S:
            # The consumers ask at most every 2 s: a flood is not theirs,
            # and must not keep the master replaying.
            return
        self._last_replay = (first, now)
        rows = self.store.ticket_changes(first, REPLAY_BATCH)
        log.info("replaying %d change(s) from %d for the centre", len(rows), first)
        self._publish(rows, replay=True)
        self.publish_head()
