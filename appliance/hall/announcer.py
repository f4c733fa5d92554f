"""The announcer: speaks calls one after another on its own thread.

Calls are queued as they arrive; each is rendered (chime + clips) and played
to the end before the next starts, so calls that arrive during an
announcement are all spoken, in order.  A recall arrives as a new call and is
spoken again.  The drawing loop never waits for sound: it only queues.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..drivers.sound import Speaker
from .voice import CallVoice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRequest:
    """One call to speak: the ticket, the window, and when the event arrived."""

    ticket: str
    window: int
    event_id: str = ""
    recall: int = 0
    received: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Spoken:
    call: CallRequest
    texts: list[str]
    #: Milliseconds from the call event's arrival to its first sample queued.
    latency_ms: float


_STOP = object()

#: Announcements, faults and latencies kept for tests, the demo and the
#: benchmark: the latest ones only (a hall display runs for months).
KEPT = 256


class Announcer:
    """Owns the speaker; :meth:`submit` never blocks."""

    def __init__(
        self,
        voice: CallVoice,
        speaker: Speaker,
        *,
        on_spoken: Callable[[Spoken], None] | None = None,
        on_fault: Callable[[str], None] | None = None,
    ) -> None:
        self.voice = voice
        self.speaker = speaker
        self.on_spoken = on_spoken
        self.on_fault = on_fault
        self.spoken: deque[Spoken] = deque(maxlen=KEPT)
        self.faults: deque[str] = deque(maxlen=KEPT)
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._idle = threading.Condition()
        self._pending = 0
        #: Milliseconds from each call's arrival to its first sample, in order
        #: (the latest :data:`KEPT`).
        self.latencies_ms: deque[float] = deque(maxlen=KEPT)
        #: Announcements started so far.
        self.started = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, call: CallRequest) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(call)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every submitted call has been spoken (or failed)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def wait_started(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` announcements have started playing."""
        with self._idle:
            return self._idle.wait_for(lambda: self.started >= count, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self.speaker.close()
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, CallRequest)
            try:
                self._speak(item)
            except Exception as exc:  # a bad call or a sound fault must not stop later calls
                log.exception("announcement of %s failed", item.ticket)
                self.faults.append(f"{item.ticket}: {exc}")
                # A ticket the voice cannot say is the event's fault, not the sound's.
                if self.on_fault is not None and not isinstance(exc, ValueError):
                    self.on_fault(f"announcement of {item.ticket} failed: {exc}")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _speak(self, call: CallRequest) -> None:
        texts, pcm = self.voice.render(call.ticket, call.window)
        started: list[float] = []

        def on_start() -> None:
            started.append((time.monotonic() - call.received) * 1000)
            with self._idle:
                self.latencies_ms.append(started[0])
                self.started += 1
                self._idle.notify_all()

        self.speaker.play(pcm, on_start=on_start)
        spoken = Spoken(call, texts, started[0] if started else -1.0)
        self.spoken.append(spoken)
        log.info("announced %s → window %d: %s", call.ticket, call.window, " / ".join(texts))
        if self.on_spoken is not None:
            self.on_spoken(spoken)
