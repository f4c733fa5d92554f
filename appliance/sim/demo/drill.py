"""The security drill's branch: provisioned as on site, with the real master.

A branch is provisioned as on site (`nidaa provision`: one account per unit,
generated passwords, the broker's rules), its Mosquitto started with that
configuration and the real master started with the master's own
credentials; :class:`Drill` hands out clients by unit and :class:`Raw` is an
attacker's bare MQTT client with one unit's credentials.  The attempts are
in :mod:`.attacks`.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ...bus.client import BusClient, new_command_id
from ...bus.topics import Topics
from ...config.branch import Config, load_config
from ...errors import QueueError
from ...master.queries import Records
from ...tech.provision import ProvisionOptions, provision
from ..harness.broker import Mosquitto, free_port
from ..harness.procs import Daemon, wait_until

#: Seconds a kiosk may void its ticket in the drill (short, to try "too late").
VOID_WINDOW_S = 2.0


#: The second kiosk the drill's branch gets (the victim of impersonation).
SECOND_KIOSK = """
[[kiosks]]
unit = "k2"
pin_factory = "mock"
journal = "{journal}"
buttons = [{{ pin = 5, service = "{service}", label_ar = "خدمة" }}]

[kiosks.printer]
backend = "simulated"
"""


def _first_service(text: str) -> str:
    after = text.split("[[services]]", 1)[1]
    return after.split('id = "', 1)[1].split('"', 1)[0]


@dataclass(frozen=True)
class Attempt:
    item: int
    what: str
    result: str
    held: bool


class Raw:
    """A bare MQTT v5 client with a unit's credentials (an attacker's tool)."""

    def __init__(self, drill: Drill, unit: str, client_id: str | None = None) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack = threading.Event()
        self.refused: str | None = None
        self.lost = threading.Event()
        self.c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or unit, protocol=mqtt.MQTTv5
        )
        self.c.username_pw_set(unit, drill.password(unit))
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda *a: self.lost.set()
        self.c.on_message = lambda c, u, m: self.messages.put(m)

    def _on_connect(self, c: Any, u: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        self.connack.set()

    def connect(self, port: int, *, clean: bool = True, expiry: int = 0) -> bool:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = expiry
        self.c.connect("127.0.0.1", port, clean_start=clean, properties=props)
        self.c.loop_start()
        return self.connack.wait(10) and self.refused is None

    def publish(
        self, topic: str, body: bytes | dict[str, Any], reply: str | None = None, **kw: Any
    ) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if reply is not None:
            props.ResponseTopic = reply
            props.CorrelationData = new_command_id("x").encode()
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.c.publish(topic, payload, qos=1, properties=props, **kw)

    def ask(self, topic: str, payload: bytes, reply: str, timeout: float = 10.0) -> str:
        """Send raw bytes as a command; the answer's error code, or ``ok``."""
        self.c.subscribe(reply, qos=1)
        time.sleep(0.2)
        self.publish(topic, payload, reply)
        for m in self.drain(timeout, stop_on_first=True):
            answer = json.loads(m.payload)
            return "ok" if answer.get("ok") else str(answer["error"]["code"])
        return "no answer"

    def drain(self, seconds: float, *, stop_on_first: bool = False) -> list[mqtt.MQTTMessage]:
        out: list[mqtt.MQTTMessage] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                break
            if stop_on_first:
                break
        return out

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


class Drill:
    """A provisioned branch with its real master, and clients by unit."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.dir = workdir
        text = config.read_text(encoding="utf-8")
        text = text.replace("[master]\n", f"[master]\nvoid_window_s = {VOID_WINDOW_S}\n", 1)
        text = text.replace("[sms]\n", "[sms]\nresend_unacked_s = 1\n", 1)
        # A second kiosk, whose name a stolen k1 password tries to use.
        text += SECOND_KIOSK.format(service=_first_service(text), journal=workdir / "k2.journal")
        self.base = workdir / "branch.toml"
        self.base.write_text(text, encoding="utf-8")
        self.config: Config = load_config(self.base)
        self.topics = Topics(self.config.branch.id)
        self.port = free_port()
        self.out = workdir / "provision"
        self.master: Daemon | None = None
        self.clients: list[BusClient] = []
        self.seen: list[tuple[str, bytes]] = []
        self._seen_lock = threading.Lock()

    def password(self, unit: str) -> str:
        return (self.out / "credentials" / f"{unit}.password").read_text().strip()

    def unit_config(self, unit: str) -> Path:
        text = self.base.read_text(encoding="utf-8")
        creds = self.out / "credentials"
        account = (
            f'url = "mqtt://127.0.0.1:{self.port}"\nusername = "{unit}"\n'
            f'password_file = "{creds / unit}.password"'
        )
        path = self.dir / f"{unit}.toml"
        path.write_text(text.replace(f'url = "{self.config.broker.url}"', account, 1), "utf-8")
        return path

    @contextmanager
    def running(self) -> Iterator[Drill]:
        provision(self.config, ProvisionOptions(out=self.out, port=self.port, bind="127.0.0.1"))
        conf = (self.out / "nidaa.conf").read_text()
        with Mosquitto(self.dir / "broker", extra_conf=conf, anonymous=False):
            self.master = Daemon(
                ["master", "--config", str(self.unit_config("master")),
                 "--db", str(self.dir / "master.db")],
                self.dir / "master.log",
            ).start()  # fmt: skip
            try:
                self.tech = self.client("tech", "technician")
                self.tech.subscribe(self.topics.all_topics, self._record)
                self.wait_master()
                yield self
            finally:
                for bus in self.clients:
                    bus.stop()
                self.master.stop()

    def _record(self, msg: Any) -> None:
        with self._seen_lock:
            self.seen.append((msg.topic, msg.payload))

    def seen_on(self, topic: str) -> list[bytes]:
        with self._seen_lock:
            return [p for t, p in self.seen if t == topic]

    def client(self, unit: str, role: str) -> BusClient:
        """A unit's own client (one per unit: a second would take its id over)."""
        for bus in self.clients:
            if bus.unit == unit:
                return bus
        cfg = load_config(self.unit_config(unit))
        bus = BusClient(cfg, role=role, unit=unit, client_id=unit, presence=False)
        bus.start()
        if not bus.wait_connected(10):
            raise RuntimeError(f"{unit} could not connect")
        self.clients.append(bus)
        return bus

    def raw(self, unit: str) -> Raw:
        """An attacker's client with ``unit``'s credentials and client id."""
        for bus in [b for b in self.clients if b.unit == unit]:
            bus.stop()
            self.clients.remove(bus)
        raw = Raw(self, unit)
        if not raw.connect(self.port):
            raise RuntimeError(f"{unit} could not connect: {raw.refused}")
        return raw

    def service(self, counter: str) -> str:
        """A service ``counter`` serves."""
        return next(c.services[0] for c in self.config.counters if c.id == counter)

    def ask(self, bus: BusClient, topic: str, **body: Any) -> dict[str, Any]:
        """The master's answer, or the refusal as ``{"error": code}``."""
        try:
            return bus.request(topic, {"id": new_command_id(bus.unit), **body}, timeout=10)
        except QueueError as exc:
            return {"error": exc.code}

    def wait_master(self) -> None:
        snapshot = self.topics.queue_cmd(self.tech.sender, "snapshot")

        def answers() -> bool:
            try:
                self.tech.request(snapshot, {"id": new_command_id("tech")}, timeout=1)
                return True
            except Exception:
                return False

        if not wait_until(answers, 30):
            assert self.master is not None
            raise RuntimeError(f"the master did not start:\n{self.master.log()}")

    def restart_master(self) -> None:
        assert self.master is not None
        self.master.stop()
        self.master.start()
        self.wait_master()

    def waiting(self) -> int:
        snap = self.tech.request(
            self.topics.queue_cmd(self.tech.sender, "snapshot"),
            {"id": new_command_id("tech")},
            timeout=10,
        )
        return sum(s["waiting"] for s in snap["services"])

    def ticket_state(self, ticket_id: int) -> str:
        with Records(self.dir / "master.db") as records:
            return records.ticket_state(ticket_id) or "absent"
