"""The central consumer: the branches' changes from the central broker into
PostgreSQL, and a replay asked for whatever is missing.

paho's network thread only files messages; one worker thread writes them in
batches (:class:`~appliance.central.store.CentralStore`).  The changes come
through an MQTT v5 shared subscription (``$share/<group>/branches/+/sync/change``),
so several consumers of one centre share the load; heads, branch
descriptions and link states (retained, small) reach every consumer.

Resync instead of trust: after each write, and every second, the consumer
looks for branches whose copy has a hole or lags the master's head; one that
stays so for ``replay_after_s`` is asked (``sync/replay``) to send again from
its first missing number.  A change lost anywhere (a dropped bridge queue, a
consumer or PostgreSQL restart, a lost message) is so fetched again from the
branch's SQLite; a change delivered twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from ..bus.credential import load_credential
from ..bus.topics import CentralTopics
from ..bus.wire import no_delay
from ..config.core import parse_broker_url
from ..errors import ConfigError
from ..systemd import Notifier
from .changes import BadChange, Change, parse_changes, parse_seq
from .config import CentralConfig
from .store import CentralStore, Progress

log = logging.getLogger(__name__)

ALL = CentralTopics("+")
#: Messages waiting for the worker at most; beyond, they are dropped (and
#: found again as holes): PostgreSQL down for long must not eat the memory.
MAX_WAITING = 200_000
BATCH = 500
BATCH_WAIT_S = 0.05
CHECK_EVERY_S = 1.0
#: Seconds between two tries to reach PostgreSQL again.
RETRY_S = 0.5


@dataclass
class Stats:
    """What one consumer did (for `nidaa bench --central` and the demo)."""

    applied: int = 0
    refused: int = 0
    dropped: int = 0
    replays_asked: int = 0
    #: (change time at the branch, seconds until committed here) of live changes.
    lags: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=500_000))


def _branch_info(payload: bytes) -> dict[str, Any]:
    """A ``sync/branch`` payload, checked: names and services."""
    body = json.loads(payload[:64 * 1024])
    if not isinstance(body, dict) or not isinstance(body.get("services"), list):
        raise BadChange("not a branch description")

    def name(value: Any) -> str:
        if not isinstance(value, str) or len(value) > 200:
            raise BadChange("bad name")
        return value

    services = []
    for s in body["services"][:100]:
        if not isinstance(s, dict) or not isinstance(s.get("service"), str):
            raise BadChange("bad service")
        services.append(
            {"service": name(s["service"])[:32], "name_ar": name(s.get("name_ar", "")),
             "name_en": name(s.get("name_en", ""))}
        )  # fmt: skip
    tz, reset = body.get("timezone"), body.get("day_reset_hour")
    if tz is not None and not _known_zone(tz):
        raise BadChange("bad time zone")
    if reset is not None and (type(reset) is not int or not 0 <= reset <= 23):
        raise BadChange("bad day_reset_hour")
    return {"name_ar": name(body.get("name_ar", "")), "name_en": name(body.get("name_en", "")),
            "services": services, "timezone": tz, "day_reset_hour": reset}  # fmt: skip


def _known_zone(value: Any) -> bool:
    """An IANA time zone name this machine knows (never a path)."""
    if not isinstance(value, str) or len(value) > 64 or ".." in value or value.startswith("/"):
        return False
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


class CentralConsumer:
    """One consumer process's bus connection and writer."""

    def __init__(
        self,
        config: CentralConfig,
        *,
        broker_url: str | None = None,
        database: str | None = None,
    ) -> None:
        self.config = config
        c = config.central
        self.store = CentralStore(database or c.database, password=c.password())
        self.stats = Stats()
        self._waiting: queue.Queue[tuple[str, str, bytes]] = queue.Queue(MAX_WAITING)
        self._stop = threading.Event()
        self._gap_since: dict[str, float] = {}
        self._last_check = 0.0
        self.notifier = Notifier()
        self.connected = threading.Event()
        #: Called with each write's progress (tests and the bench watch it).
        self.on_progress: Callable[[Progress], None] | None = None

        url = broker_url or config.broker.url
        try:
            self.host, self.port, tls = parse_broker_url(url)
        except ValueError as exc:
            raise ConfigError([("broker.url", str(exc))]) from None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=c.consumer, protocol=mqtt.MQTTv5
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.on_socket_open = no_delay
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        if config.broker.credential:
            cred = load_credential(config.broker.credential)
            self.client.username_pw_set(cred.username, cred.password)
            if tls:
                cafile = ssl.create_default_context(cadata=cred.ca_pem or None)
                self.client.tls_set_context(cafile)
        elif tls:
            self.client.tls_set()

    # -- bus (paho's thread) -----------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                    props: Any = None) -> None:  # fmt: skip
        if getattr(rc, "is_failure", False):
            log.warning("central broker refused the consumer: %s", rc)
            return
        group = self.config.central.share_group
        q1 = SubscribeOptions(qos=1)
        client.subscribe(
            [
                (CentralTopics.shared(group, ALL.sync("change")), q1),
                (ALL.sync("head"), q1),
                (ALL.sync("branch"), q1),
                (ALL.link, q1),
            ]
        )
        self.connected.set()
        log.info("consumer %s connected to %s:%d", self.config.central.consumer, self.host,
                 self.port)  # fmt: skip

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                       props: Any = None) -> None:  # fmt: skip
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            branch, kind = CentralTopics.parse(msg.topic)
        except ValueError:
            return
        try:
            self._waiting.put_nowait((branch, kind, bytes(msg.payload)))
        except queue.Full:
            self.stats.dropped += 1  # found again as a hole

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        for b in self.config.branches:
            self._retry(partial(self.store.expect, b.id, b.name_ar, b.name_en))
        self.client.connect_async(self.host, self.port, keepalive=self.config.broker.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM / SIGINT in the main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        self.notifier.ready("consuming")
        try:
            while not self._stop.is_set():
                self.notifier.alive()
                try:
                    self.step()
                except Exception:
                    log.exception("consumer loop error")
                    time.sleep(RETRY_S)
        finally:
            self.notifier.stopping()
            self.client.disconnect()
            self.client.loop_stop()
            self.store.close()

    def _retry(self, write: Callable[[], Any]) -> Any:
        """``write`` until PostgreSQL takes it (or the consumer stops)."""
        while True:
            try:
                return write()
            except psycopg.OperationalError as exc:
                log.warning("PostgreSQL unreachable (%s); trying again", str(exc).strip()[:200])
                self.store.drop_connection()
                self.notifier.alive()  # waiting for PostgreSQL is not being stuck
                if self._stop.wait(RETRY_S):
                    raise

    # -- the worker --------------------------------------------------------
    def _take(self) -> list[tuple[str, str, bytes]]:
        items: list[tuple[str, str, bytes]] = []
        try:
            items.append(self._waiting.get(timeout=CHECK_EVERY_S / 2))
        except queue.Empty:
            return items
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(items) < BATCH:
            try:
                items.append(self._waiting.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return items

    def step(self) -> None:
        """One batch of messages written, then holes looked for."""
        items = self._take()
        changes: dict[str, list[Change]] = {}
        heads: dict[str, int] = {}  # a batch's heads of a branch: the last one counts
        progress: list[Progress] = []
        for branch, kind, payload in items:
            try:
                if kind == "change":
                    changes.setdefault(branch, []).extend(parse_changes(payload))
                elif kind == "head":
                    heads[branch] = max(heads.get(branch, 0), parse_seq(payload))
                elif kind == "link":
                    online = payload.strip() == b"1"
                    self._retry(partial(self.store.link, branch, online))
                elif kind == "branch":
                    info = _branch_info(payload)
                    target = self.config.central.target_wait_s
                    self._retry(partial(self.store.describe, branch, info, target))
            except (BadChange, ValueError) as exc:
                self.stats.refused += 1
                log.warning("refused %s of branch %s: %s", kind, branch, exc)
        for branch, batch in changes.items():
            progress.append(self._retry(partial(self.store.apply, branch, batch)))
            now = time.time()
            self.stats.applied += len(batch)
            self.stats.lags.extend((c.at, now - c.at) for c in batch if not c.replayed)
        for branch, seq in heads.items():
            progress.append(self._retry(partial(self.store.head, branch, seq)))
        for p in progress:
            self._track(p)
            if self.on_progress is not None:
                self.on_progress(p)
        if time.monotonic() - self._last_check >= CHECK_EVERY_S:
            self._last_check = time.monotonic()
            behind = {p.branch for p in self._retry(self.store.behind)}
            for branch in list(self._gap_since):
                if branch not in behind:
                    del self._gap_since[branch]
            for branch in behind:
                self._gap_since.setdefault(branch, time.monotonic())
        self._ask_replays()

    def _track(self, p: Progress) -> None:
        if p.behind:
            self._gap_since.setdefault(p.branch, time.monotonic())
        else:
            self._gap_since.pop(p.branch, None)

    def _ask_replays(self) -> None:
        wait = self.config.central.replay_after_s
        now = time.monotonic()
        for branch, since in list(self._gap_since.items()):
            if now - since < wait:
                continue
            first = self._retry(partial(self.store.claim_replay, branch, max(2 * wait, 1.0)))
            if first is None:
                continue  # another consumer asked a moment ago
            self.stats.replays_asked += 1
            log.info("asking branch %s to replay from %d", branch, first)
            self.client.publish(
                CentralTopics(branch).sync("replay"), json.dumps({"from": first}), qos=1
            )
            self._gap_since[branch] = now
