"""The master under load: eight clients each waiting for its answer, and a burst.

Both send issue requests as a kiosk does (an MQTT v5 request with a reply
topic and correlation data, QoS 1) and count only answers that are tickets:
a refusal (a service out of numbers, a rate limit) fails the measurement
instead of counting as a fast answer.  The requests are spread over the
services, never past a service's range of numbers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ...bus.client import BusClient, Message, encode, new_command_id
from ...bus.wire import properties
from ...config.branch import Config
from .cpu import process_cpu_ms
from .masters import start_master, wait_answering


def spread(cfg: Config, tickets: int, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Service ids for up to ``tickets`` requests, in turn over the services
    (those in ``skip`` left out), at most each service's range of numbers."""
    left = {s.id: s.last - s.first + 1 for s in cfg.services if s.id not in skip}
    plan: list[str] = []
    while len(plan) < tickets and any(left.values()):
        for service in left:
            if left[service] and len(plan) < tickets:
                left[service] -= 1
                plan.append(service)
    return plan


def _issue(bus: BusClient, service: str, correlation: bytes) -> tuple[bytes, Properties]:
    """An issue request's payload and properties, as a kiosk sends it."""
    props = properties(PacketTypes.PUBLISH)
    props.ResponseTopic = bus.reply_topic
    props.CorrelationData = correlation
    return encode({"id": new_command_id(bus.unit), "service": service}), props


def _send(bus: BusClient, request: tuple[bytes, Properties]) -> None:
    bus.publish(bus.topics.ticket_cmd(bus.sender, "issue"), request[0], properties=request[1])


def _refusals(answers: list[Message]) -> list[Message]:
    return [m for m in answers if m.json().get("ok") is not True]


def throughput(cfg: Config, url: str, *, clients: int, per_client: int) -> float:
    """Durable tickets per second for ``clients`` clients, each sending its
    next request only once the answer to the last came.

    The load generator is lean, so that the figure is the master's: each
    client drives its own connection from its own thread (no network thread
    to hand each answer over, appliance/bus/pump.py).  The first service is
    left to the other figures' tickets."""
    plan = spread(cfg, clients * per_client, skip=frozenset({cfg.services[0].id}))
    buses = [
        BusClient(cfg, role="tool", unit=f"bench-k{i}", broker_url=url, presence=False)
        for i in range(clients)
    ]
    answers: list[list[Message]] = [[] for _ in buses]
    barrier = threading.Barrier(clients + 1)
    failed: list[str] = []

    def drive(i: int, bus: BusClient) -> None:
        services = plan[i::clients]
        got = answers[i]

        def answered(msg: Message) -> None:
            if msg.correlation != str(len(got)).encode():
                return  # not the answer this client waits for
            got.append(msg)
            if len(got) < len(services):
                _send(bus, _issue(bus, services[len(got)], str(len(got)).encode()))

        bus.subscribe(bus.reply_topic, answered)  # this client's answers are ours
        bus.start(thread=False)
        deadline = time.monotonic() + 10
        while not bus.connected and time.monotonic() < deadline:
            bus.pump(0.1)
        if not bus.connected:
            failed.append(f"{bus.unit} could not connect")
        try:
            barrier.wait(30)
        except threading.BrokenBarrierError:
            return
        if services and bus.connected:
            _send(bus, _issue(bus, services[0], b"0"))
        deadline = time.monotonic() + 60
        while len(got) < len(services) and time.monotonic() < deadline:
            bus.pump(1.0)
        bus.stop()

    threads = [threading.Thread(target=drive, args=(i, b)) for i, b in enumerate(buses)]
    for th in threads:
        th.start()
    barrier.wait(30)
    start = time.perf_counter()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    if failed:
        raise RuntimeError(f"throughput: {failed[0]}")
    got = [m for a in answers for m in a]
    if len(got) < len(plan):
        raise RuntimeError(f"throughput: {len(got)} of {len(plan)} answered in 60 s")
    refused = _refusals(got)
    if refused:
        raise RuntimeError(
            f"throughput: {len(refused)} refused, first: {refused[0].payload[:200]!r}"
        )
    return round(len(got) / elapsed, 1)


def burst(cfg: Config, config: Path, url: str, work: Path, tickets: int) -> dict[str, float]:
    """A morning rush: ``tickets`` issue requests sent at once, without
    waiting for answers (many kiosks pressed together), and the master
    answering them from its inbox in batches of up to 64 per transaction.

    A master of its own on a fresh database in ``work`` (the other
    figures' tickets would hold numbers).
    ``master_burst_tickets_per_s``: from the first request sent to the last
    answer received; ``master_burst_cpu_ms_per_ticket``: the master's CPU
    time over the same run."""
    plan = spread(cfg, tickets)
    work.mkdir(parents=True, exist_ok=True)
    master = start_master(config, url, work / "master.db", work / "master.log")
    bus = BusClient(cfg, role="tool", unit="bench-burst", broker_url=url, presence=False)
    answers: dict[bytes, Message] = {}
    expected = {str(i).encode() for i in range(len(plan))}
    all_in = threading.Event()

    def answered(msg: Message) -> None:
        if msg.correlation not in expected:  # a late answer to the readiness check
            return
        answers[msg.correlation] = msg
        if len(answers) == len(expected):
            all_in.set()

    try:
        bus.start()
        wait_answering(bus, master)
        bus.subscribe(bus.reply_topic, answered)  # from here, this client's answers are ours
        requests = [_issue(bus, service, str(i).encode()) for i, service in enumerate(plan)]
        cpu = process_cpu_ms(master.pid)
        start = time.perf_counter()
        for request in requests:
            _send(bus, request)
        if not all_in.wait(60):
            raise RuntimeError(f"burst: {len(answers)} of {len(plan)} answered in 60 s")
        elapsed = time.perf_counter() - start
        used = process_cpu_ms(master.pid) - cpu
    finally:
        bus.stop()
        master.stop()
    refused = _refusals(list(answers.values()))
    if refused:
        raise RuntimeError(f"burst: {len(refused)} refused, first: {refused[0].payload[:200]!r}")
    return {
        "master_burst_tickets": len(plan),
        "master_burst_tickets_per_s": round(len(plan) / elapsed, 1),
        "master_burst_cpu_ms_per_ticket": round(used / len(plan), 3),
    }
