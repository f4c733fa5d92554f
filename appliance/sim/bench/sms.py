"""Speed and memory of the SMS path, for `nidaa bench`.

:func:`bench_sms` is the encoder alone; :func:`bench_sms_gateway` is a hook
for ``nidaa bench`` (:meth:`~appliance.sim.roles.sms.SmsSim.bench`): it adds the encoder figure and runs the
gateway as a real process on the bench's broker with the simulated modem,
sends it stage events, and reports its resident memory once they were sent.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...drivers.modem.pdu import encode

if TYPE_CHECKING:
    from ..hooks import BenchContext

# A typical stage message: Arabic, two parts, with digits and a reference.
SAMPLE = (
    "المركز التكنولوجي لخدمة المواطنين - حي الدقي: طلبكم رقم REQ-2026-00417 "
    "جاهز للاستلام. يرجى التوجه إلى الشباك 5 ومعكم بطاقة الرقم القومي وإيصال التقديم."
)


def bench_sms(seconds: float = 0.5) -> dict[str, float]:
    """Messages encoded to PDUs per second (``sms_encode_per_s``)."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            encode("+201012345678", SAMPLE, reference=count & 0xFF)
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            break
    return {"sms_encode_per_s": round(count / (now - start), 1)}


def bench_sms_gateway(ctx: BenchContext, events: int = 5) -> dict[str, float]:
    """``sms_encode_per_s`` and ``rss_mb_sms`` (the gateway after ``events`` SMS)."""
    from ...bus.client import BusClient
    from ..figures import rss_mb
    from ..harness.procs import Daemon, wait_until

    result = bench_sms()
    if ctx.config.sms is None:
        return result
    gateway = Daemon(
        [
            "sms-gateway",
            "--config",
            str(ctx.config_path),
            "--broker",
            ctx.broker_url,
            "--modem",
            "sim",
            "--outbox",
            str(ctx.workdir / "sms-outbox.db"),
        ],
        ctx.workdir / "sms-gateway.log",
    ).start()
    bus = BusClient(
        ctx.config, role="tool", unit="bench-sms", broker_url=ctx.broker_url, presence=False
    )
    status: dict[str, object] = {}

    def watch(msg: object) -> None:
        status.update(msg.json())  # type: ignore[attr-defined]

    try:
        bus.subscribe(bus.topics.status("sms-gateway", ctx.config.sms.unit), watch)
        bus.start()
        if not wait_until(lambda: status.get("state") == "online", 20):
            raise RuntimeError(f"the SMS gateway did not start:\n{gateway.log()}")
        for i in range(events):
            bus.publish(
                bus.topics.event("stage"),
                {
                    "id": f"bench-{i}",
                    "ref": f"R-{i}",
                    "stage": "ready",
                    "phone": "+201012345678",
                    "ticket": "A001",
                    "window": None,
                    "at": 0,
                },
            )

        def sent() -> bool:
            outbox = status.get("outbox")
            return (
                isinstance(outbox, dict)
                and outbox.get("pending") == 0
                and (outbox.get("sent", 0) + outbox.get("delivered", 0) >= events)
            )

        if not wait_until(sent, 60):
            raise RuntimeError(f"the SMS gateway did not send the bench messages: {status}")
        result["rss_mb_sms"] = rss_mb(gateway.pid)
    finally:
        bus.stop()
        gateway.stop()
    return result
