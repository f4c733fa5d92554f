"""The MQTT client every Nidaa unit uses.

One :class:`BusClient` per daemon: MQTT v5 through paho-mqtt 2.x, a retained
status with a Last Will, automatic reconnection that renews subscriptions and
republishes retained state, and MQTT v5 request/response for commands.

Handlers given to :meth:`BusClient.subscribe` run on paho's network thread;
they must be short and hand blocking work (printing, speech, SQLite) to a
thread of the daemon's own.  The master drives its client from its worker
thread instead (``start(thread=False)`` and :meth:`BusClient.pump`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ..config import parse_broker_url
from ..config.branch import Config
from ..errors import AuthError, BusError, ConfigError, QueueError
from .account import connect_error, log_in, refusal_text
from .credential import Credential, unit_credential
from .failover import BrokerList
from .message import Message, encode, new_command_id, utc_now_iso
from .presence import Presence
from .pump import Pump
from .topics import Topics
from .waiting import Waiting
from .wire import ReplyProperties, no_delay, properties, wrap

log = logging.getLogger(__name__)

#: Seconds a persistent session outlives a disconnection (SMS gateway, master).
SESSION_EXPIRY = 7 * 24 * 3600


class BusClient:
    """A unit's connection to the branch broker.

    ``role`` and ``unit`` name the unit in its status topic; ``client_id``
    defaults to the unit id.  :attr:`sender` is the unit id its commands name
    (``cmd/<sender>/...``) and its reply topic is under
    (``reply/<sender>/<client id>``): a unit's own id, or for a tool the
    account it logs in with (the technician's ``tech``), which is all the
    broker lets it publish under.
    ``persistent`` keeps the MQTT session (and QoS 1 messages queued for the
    unit) across disconnections.  ``presence=False`` is for tools (the
    technician's CLI) that are not units: no status, no Last Will.
    ``manual_ack`` lets a subscription acknowledge its QoS 1 messages itself
    (``subscribe(..., defer_ack=True)``); every other message is still
    acknowledged as soon as its handler returns.

    ``credential``: the account to connect with.  By default a unit uses its
    own file from ``[broker] credentials_dir`` (:mod:`appliance.bus.credential`)
    if this Pi has one, else ``[broker] username``/``password_file``.  The
    credential's broker URL is used unless ``broker_url`` is given.
    """

    def __init__(
        self,
        config: Config,
        *,
        role: str,
        unit: str,
        broker_url: str | None = None,
        client_id: str | None = None,
        persistent: bool = False,
        presence: bool = True,
        manual_ack: bool = False,
        credential: Credential | None = None,
    ) -> None:
        self.config = config
        self.presence = presence
        self.role = role
        self.unit = unit
        self.topics = Topics(config.branch.id)
        if credential is None and presence:
            credential = unit_credential(config, unit)
        self.credential = credential
        self.client_id = client_id or (credential.client_id if credential else "") or unit
        self.persistent = persistent
        url = broker_url or (credential.broker_url if credential else "") or config.broker.url
        try:
            self.host, self.port, tls = parse_broker_url(url)
            self.brokers = BrokerList([url, *(() if broker_url else config.broker.fallback_urls)])
        except ValueError as exc:
            raise ConfigError([("broker.url", str(exc))]) from None
        #: Why the broker last refused the connection, if it did (CONNACK reason).
        self.refused: str = ""
        self._unreachable_logged = False
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._subscriptions: dict[str, SubscribeOptions] = {}
        self._connect_callbacks: list[Callable[[], None]] = []
        self._waiting = Waiting()  # requests and their answers
        self._health = Presence(role, unit)
        self._pump: Pump | None = None  # driven from the caller's thread (start)

        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
        self.manual_ack = manual_ack
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.on_socket_open = no_delay
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_unrouted
        self.username = log_in(self._client, config, credential, tls=tls)
        #: The unit id this client's commands name: the broker's rules let an
        #: account publish commands only under its own user name.
        self.sender = unit if presence else (self.username or unit)
        self.reply_topic = self.topics.reply(self.sender, self.client_id)
        self._client.message_callback_add(self.reply_topic, self._on_reply)
        if presence:
            self._client.will_set(
                self.topics.status(role, unit),
                encode(self._health.payload(offline=True)),
                qos=1,
                retain=True,
            )

    # -- lifecycle --------------------------------------------------------
    def start(self, *, thread: bool = True) -> None:
        """Connect in the background; reconnects by itself for ever.

        ``thread=False``: no network thread; the caller's own thread drives
        the connection with :meth:`pump` (appliance/bus/pump.py), and every
        use of this client must come from that thread."""
        self._connect_to(*self.brokers.current)
        if thread:
            self._client.loop_start()
            return
        self._client.on_publish = None  # its PUBACKs wait for no request (request() refuses)
        self._pump = Pump(
            self._client,
            reconnect_failed=lambda: self._on_connect_fail(self._client, None),
            go_back=lambda flush: self.brokers.go_back(self._client, self._connect_to, flush),
        )

    def pump(self, timeout: float) -> None:
        """One round of the network loop on the caller's thread (after
        ``start(thread=False)``): handlers run here, queued messages go out."""
        if self._pump is None:
            raise RuntimeError("pump() is for a client started with thread=False")
        self._pump.pump(timeout)

    def _connect_to(self, host: str, port: int) -> None:
        props = properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY if self.persistent else 0
        self.host, self.port = host, port
        keepalive, clean = self.config.broker.keepalive_s, not self.persistent
        self._client.connect_async(host, port, keepalive, clean_start=clean, properties=props)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def connect_error(self) -> BusError:
        """Why this client is not connected: refused (:class:`AuthError` when
        the credential is not allowed) or unreachable."""
        return connect_error(self.username, self.host, self.port, self.client_id, self.refused)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self) -> None:
        """Say goodbye (retained ``offline``) and disconnect."""
        if self.presence and self._connected.is_set():
            info = self._client.publish(
                self.topics.status(self.role, self.unit),
                encode(self._health.payload(offline=True)),
                qos=1,
                retain=True,
            )
            with contextlib.suppress(RuntimeError, ValueError):
                if self._pump is None:
                    info.wait_for_publish(2.0)
                else:
                    self._pump.wait_published(info, 2.0)
        self._connected.clear()
        self.brokers.close()
        self._client.disconnect()
        if self._pump is None:
            self._client.loop_stop()
        else:
            self._pump.close()  # sends the DISCONNECT

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every (re)connection."""
        self._connect_callbacks.append(callback)

    # -- paho callbacks ---------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            first = self.refused != str(reason)
            self.refused = str(reason)
            if first:  # once per reason, not at every retry
                log.error("%s", self.refusal())
            return
        self.refused = ""
        self._unreachable_logged = False
        if self._pump is not None:  # the driving thread leaves, not the probe's
            self.brokers.watch_first(self._pump.ask_go_back)
        else:
            self.brokers.watch_first(lambda: self.brokers.go_back(client, self._connect_to))
        subs = [(self.reply_topic, SubscribeOptions(qos=1))]
        with self._lock:
            subs += list(self._subscriptions.items())
        client.subscribe(subs)
        self._connected.set()
        self._publish_status()
        for callback in list(self._connect_callbacks):
            try:
                callback()
            except Exception:  # a unit's republish must not kill the network thread
                log.exception("on-connect callback failed")
        # A tool's connection is routine; a unit's is worth a line in its journal.
        log.log(
            logging.INFO if self.presence else logging.DEBUG,
            "connected to broker %s:%s as user %r, client id %r",
            self.host,
            self.port,
            self.username,
            self.client_id,
        )

    def refusal(self) -> str:
        """What the broker's last refusal means, for a person."""
        return refusal_text(self.username, self.host, self.port, self.client_id, self.refused)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.brokers.failed(self._connect_to)
        if not self._unreachable_logged:
            self._unreachable_logged = True
            log.error(
                "broker %s:%s is unreachable (no connection); retrying every few seconds",
                self.host,
                self.port,
            )

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        self._waiting.published(mid, reason)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            log.warning("lost the broker (%s); reconnecting", reason)
        self._connected.clear()
        self.brokers.failed(self._connect_to)

    def _on_unrouted(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        log.debug("message on %s with no handler", msg.topic)
        self._auto_ack(msg)

    def _auto_ack(self, msg: mqtt.MQTTMessage) -> None:
        if self.manual_ack and msg.qos > 0:
            self._client.ack(msg.mid, msg.qos)

    def _on_reply(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._auto_ack(msg)
        self._waiting.answered(wrap(msg))

    # -- publish / subscribe ----------------------------------------------
    def subscribe(
        self,
        topic_filter: str,
        handler: Callable[[Message], None],
        qos: int = 1,
        *,
        defer_ack: bool = False,
        retain_as_published: bool = False,
    ) -> None:
        """``defer_ack`` (with ``manual_ack=True``): the handler's message
        carries ``ack``, to call once its effect is safe; until then a
        persistent session gets it again after a crash.
        ``retain_as_published``: a message its sender published retained
        keeps its retain flag even when delivered live (MQTT v5)."""
        deferred = defer_ack and self.manual_ack

        def callback(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            message = wrap(msg)
            if deferred and msg.qos > 0:

                def ack() -> None:
                    client.ack(msg.mid, msg.qos)

                message = dataclasses.replace(message, ack=ack)
            try:
                handler(message)
            except Exception:
                log.exception("handler for %s failed", msg.topic)
                self._auto_ack(msg)  # a message that breaks its handler is not held
                return
            if not deferred:
                self._auto_ack(msg)

        options = SubscribeOptions(qos=qos, retainAsPublished=retain_as_published)
        with self._lock:
            self._subscriptions[topic_filter] = options
        self._client.message_callback_add(topic_filter, callback)
        if self._connected.is_set():
            self._client.subscribe(topic_filter, options=options)

    def publish(
        self,
        topic: str,
        payload: Mapping[str, Any] | bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        return self._client.publish(
            topic, encode(payload), qos=qos, retain=retain, properties=properties
        )

    def reply(self, request: Message, body: Mapping[str, Any]) -> None:
        """Answer a request on its ResponseTopic with its CorrelationData."""
        if not request.response_topic:
            return
        props = None if request.correlation is None else ReplyProperties(request.correlation)
        self.publish(request.response_topic, body, qos=1, properties=props)  # type: ignore[arg-type]

    def request(
        self,
        topic: str,
        payload: Mapping[str, Any],
        *,
        timeout: float = 3.0,
        attempts: int = 1,
    ) -> dict[str, Any]:
        """Send a command and wait for the master's answer.

        The same payload (and so the same command id) is sent on every
        attempt; the master applies it at most once.  Returns ``result``;
        raises :class:`QueueError` on an error answer and :class:`BusError`
        when no answer came.
        """
        if "id" not in payload:
            raise ValueError("a command needs an 'id' chosen by the sender")
        if self._pump is not None:
            raise RuntimeError("request() waits on the network thread: not with thread=False")
        deadline = time.monotonic() + timeout * attempts
        if not self._connected.wait(max(0.0, deadline - time.monotonic())):
            raise self.connect_error()
        correlation = uuid.uuid4().bytes
        pending = self._waiting.add(correlation)
        try:
            for _ in range(attempts):
                props = properties(PacketTypes.PUBLISH)
                props.ResponseTopic = self.reply_topic
                props.CorrelationData = correlation
                # A command nobody took in time must not be applied later.
                props.MessageExpiryInterval = max(1, math.ceil(timeout))
                # A refused PUBACK ends the wait (appliance/bus/waiting.py).
                info = self.publish(topic, payload, qos=1, properties=props)
                self._waiting.sent(info.mid, pending)
                if pending.done.wait(timeout):
                    break
            else:
                raise BusError(f"no answer from the master to {topic} after {attempts} attempt(s)")
        finally:
            self._waiting.forget(correlation, pending)
        if pending.denied:
            raise AuthError(
                f"broker {self.host}:{self.port} refused user {self.username!r} publishing on "
                f"{topic}: {pending.denied} (this account may not send that command)"
            )
        answer = pending.answer or {}
        if answer.get("ok") is True:
            result = answer.get("result", {})
            return result if isinstance(result, dict) else {"value": result}
        error = answer.get("error") or {}
        raise QueueError(str(error.get("code", "error")), str(error.get("message", "refused")))

    # -- status -----------------------------------------------------------
    def set_status(
        self, state: str = "online", faults: list[dict[str, str]] | None = None, **details: Any
    ) -> None:
        """Publish this unit's retained health; republished on reconnect."""
        self._health.set(state, faults, details)
        self._publish_status()

    def _publish_status(self) -> None:
        if self.presence and self._connected.is_set():
            self.publish(
                self.topics.status(self.role, self.unit),
                self._health.payload(),
                qos=1,
                retain=True,
            )


__all__ = ["SESSION_EXPIRY", "BusClient", "Message", "encode", "new_command_id", "utc_now_iso"]
