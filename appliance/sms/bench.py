"""Speed of the SMS path, for `nidaa bench`."""

from __future__ import annotations

import time

from .pdu import encode

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
    return {"sms_encode_per_s": count / (now - start)}
