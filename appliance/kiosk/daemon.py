"""The kiosk daemon: a press becomes a number from the master, printed.

Threads: gpiozero's edge thread only queues presses; paho's network thread
only records the master's presence; one worker thread does everything that
blocks (asking the printer, asking the master, rendering, printing), so a
slow printer never stalls the bus and presses are served in order.

What may never happen: a number printed that the master did not issue, or a
number taken that no citizen holds.  So the printer is asked *before* the
master, the master is asked with one command id for all attempts, and a
ticket whose print failed is voided at the master (retried until it is).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from ..arabic import ArabicRenderer, default_renderer
from ..bus.client import BusClient, Message, new_command_id
from ..bus.presence import MasterWatch
from ..config.branch import Config
from ..drivers.buttons import ButtonBoard, ButtonEvent, pin_factory
from ..drivers.printer import Printer, PrinterStatus
from ..errors import BusError, ConfigError, QueueError
from ..systemd import Notifier
from .bands import TicketBands
from .config import KioskUnit, check_kiosks
from .counts import _REFRESH, KioskCounts, Printed, _Press
from .journal import PressJournal
from .panel import Panel
from .ticket import face_from_answer

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class KioskDaemon:
    """One kiosk unit.  ``printer`` and ``factory`` default to what the
    configuration names; tests pass a simulated printer and MockFactory."""

    def __init__(
        self,
        config: Config,
        unit: KioskUnit,
        *,
        broker_url: str | None = None,
        printer: Printer | None = None,
        factory: Any = None,
        clock: Clock = time.monotonic,
        renderer: ArabicRenderer | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        problems = check_kiosks(config.kiosks, config)
        if problems:
            raise ConfigError(problems)
        self.config = config
        self.unit = unit
        self.clock = clock
        self.renderer = renderer or default_renderer()
        self.printer = printer or unit.printer.open()
        self.printer.check()  # a missing printer is a start-up error
        self.width = self.printer.paper_width
        self.notifier = notifier or Notifier()
        # Load fonts and the printer profile, and draw what every ticket of
        # every service repeats, now, not on the first citizen's press.
        self.tickets = TicketBands(config, self.printer.profile, unit.ticket, self.renderer)
        self.factory = factory if factory is not None else pin_factory(unit.pin_factory)
        self.counts = KioskCounts()
        self.inbox: queue.Queue[_Press | None] = queue.Queue()
        self._armed_until = float("-inf")  # a priority button without service was pressed
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._master_online: bool | None = None  # None: no presence seen yet
        self._masters = MasterWatch.of(config)  # with a standby, any candidate
        self._master_failed = False  # the last request got no answer
        self._print_fault: str = ""
        self._rate_fault: str = ""
        #: The masters' etcd cluster has no quorum (a standby branch): nothing is issued.
        self._quorum_fault: str = ""
        #: Refusals after which the ticket may exist all the same (a standby branch's).
        self._uncertain = ("no_quorum", "storage") if config.ha is not None else ()
        self._printer_status: PrinterStatus | None = None
        # Void commands not yet answered, each with the request it undoes.
        self._pending_voids: list[tuple[dict[str, Any], str]] = []
        # Requests in flight noted on disk: a kiosk restarted mid-press voids
        # the number it was given (appliance/kiosk/journal.py).
        self.journal = PressJournal(unit.journal or None)
        # Issue commands that got no answer, and those an earlier run left open.
        self._orphans: list[dict[str, Any]] = self.journal.recover()
        self._published: tuple[Any, ...] = ()
        self.bus = BusClient(config, role="kiosk", unit=unit.unit, broker_url=broker_url)
        self.topics = self.bus.topics
        self.panel = Panel(
            self.factory,
            status_led=unit.status_led_pin,
            fault_led=unit.fault_led_pin,
            buzzer=unit.buzzer_pin,
        )
        try:
            self.buttons = ButtonBoard(
                {f"b{i}": b.pin for i, b in enumerate(unit.buttons)},
                self._on_button,
                factory=self.factory,
                clock=clock,
                debounce=unit.debounce_ms / 1000,
                cooldown=unit.cooldown_s,
            )
        except Exception:
            self.panel.close()
            raise

    @property
    def master_online(self) -> bool | None:
        """The master's presence as last seen (None: not seen yet)."""
        return self._master_online

    # -- lifecycle --------------------------------------------------------
    def start(self) -> None:
        for master_topic in self._masters.topics(self.topics):
            self.bus.subscribe(master_topic, self._on_master_status)
        self.bus.start()
        self._worker = threading.Thread(target=self._work, name="kiosk-worker", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)
        self.buttons.close()
        self.panel.show(False)
        self.panel.close()
        self.bus.stop()
        self.printer.close()

    def run(self) -> None:
        """Serve until SIGTERM / SIGINT (when run in the main thread) or :meth:`stop`."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
            signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        self.start()
        log.info("kiosk %s ready, %d buttons", self.unit.unit, len(self.unit.buttons))
        self.notifier.ready(f"kiosk {self.unit.unit}: {len(self.unit.buttons)} buttons")
        try:
            self._stop.wait()
        finally:
            self.notifier.stopping()
            self.stop()

    # -- inputs (other threads: keep short) --------------------------------
    def _on_button(self, event: ButtonEvent) -> None:
        if event.kind != "press":
            return
        button = self.unit.buttons[int(event.button[1:])]
        self.counts.presses += 1
        if not button.service:  # the priority button marks the next press
            self._armed_until = event.at + self.unit.priority_arm_s
            return
        priority = button.priority or event.at <= self._armed_until
        self._armed_until = float("-inf")
        self.inbox.put(_Press(self.config.service(button.service).id, priority, event.at))

    def _on_master_status(self, msg: Message) -> None:
        try:
            state = msg.json().get("state") if msg.payload else None
            online = self._masters.update(self.topics.parse_status(msg.topic)[1], state)
        except ValueError:
            return
        if online and self._master_online is False:
            self._master_failed = False  # it came back
        if online != self._master_online:
            self._master_online = online
            self.inbox.put(_REFRESH)

    # -- the worker -------------------------------------------------------
    def _work(self) -> None:
        self._refresh()
        while not self._stop.is_set():
            # This loop does the blocking work: if it hangs (a printer that
            # never returns), systemd's watchdog restarts the kiosk.
            self.notifier.alive()
            try:
                press = self.inbox.get(timeout=self.unit.status_poll_s)
            except queue.Empty:
                press = None
            try:
                if press is not None and press.service:
                    self._serve(press)
                else:
                    self._refresh()
            except Exception:  # a bug must not end the kiosk: log once, go on
                log.exception("kiosk worker failed")

    def _refresh(self) -> None:
        """Idle work: ask the printer, retry voids, publish what changed."""
        self._printer_status = self.printer.status()
        self._retry_voids()
        self._publish()

    def _serve(self, press: _Press) -> None:
        status = self.printer.status()
        self._printer_status = status
        if not status.ready:
            self._refuse(f"printer {status.state.value}: {status.reason}")
            return
        if not self._master_reachable():
            self._refuse("master unreachable")
            return
        request_id = new_command_id(self.unit.unit)
        command = {
            "id": request_id,
            "service": press.service,
            "priority": press.priority,
            "unit": self.unit.unit,
        }
        self.journal.asked(command)
        try:
            result = self.bus.request(
                self.topics.ticket_cmd(self.bus.sender, "issue"),
                command,
                timeout=self.unit.request_timeout_s,
                attempts=self.unit.request_attempts,
            )
        except BusError as exc:
            # The master may still apply it (a command already on its way):
            # ask again later with the same id, and void what it answers.
            self._master_failed = True
            self._orphans.append(command)
            self._refuse(f"master unreachable: {exc}")
            return
        except QueueError as exc:
            if exc.code in self._uncertain:
                # Maybe saved after all (a standby master's etcd answered late):
                # asked again later, and voided if it was (as for no answer).
                self._orphans.append(command)
                self._quorum_fault = exc.message if exc.code == "no_quorum" else ""
            else:
                self.journal.settled(request_id)  # refused: nothing was issued
            # Past its tickets a minute the master refuses this kiosk: a fault
            # on its status until a ticket is issued again.
            self._rate_fault = exc.message if exc.code == "rate_limited" else ""
            self._refuse(f"master refused: {exc.message} ({exc.code})")
            return
        self._master_failed = False
        self._rate_fault = self._quorum_fault = ""
        self._print(press, result, request_id)

    def _print(self, press: _Press, result: dict[str, Any], request_id: str) -> None:
        printing = False
        try:
            face = face_from_answer(self.config, result)
            self.tickets = self.tickets.for_config(self.config)
            job = self.tickets.job(face)
            self.journal.printing(request_id)
            printing = True
            self.printer.print_raw(job)
        except Exception as exc:  # whatever broke, the number must not stay taken
            if printing:
                self.journal.failed(request_id)
            ticket = result.get("ticket") if isinstance(result.get("ticket"), dict) else {}
            number = ticket.get("number", "?") if isinstance(ticket, dict) else "?"
            self._print_fault = f"ticket {number} could not be printed: {exc}"
            log.error("%s; voiding it at the master", self._print_fault)
            if isinstance(ticket, dict) and isinstance(ticket.get("id"), int):
                void = {
                    "id": new_command_id(self.unit.unit),
                    "ticket_id": ticket["id"],
                    "reason": f"kiosk {self.unit.unit}: print failed: {exc}"[:200],
                }
                self._pending_voids.append((void, request_id))
            self._retry_voids()
            self._printer_status = self.printer.status()
            self._refuse(self._print_fault)
            return
        self.journal.settled(request_id)
        self._print_fault = ""
        self.counts.printed += 1
        # One line per paper handed out: with the master's journal, the record
        # that no number was printed twice or printed without being issued.
        log.info("printed ticket %s (id %s)", face.number, result["ticket"].get("id"))
        digest = hashlib.sha256(job).hexdigest()
        self.counts.history.append(Printed(result, digest, press.at, self.clock()))
        self._publish()

    def _settle_orphans(self) -> None:
        """Re-send each unanswered issue command (same id: the master applies
        it at most once and repeats its first answer) and void the ticket it
        names, so no number waits in the queue without a paper."""
        still: list[dict[str, Any]] = []
        for command in self._orphans:
            try:
                result = self.bus.request(
                    self.topics.ticket_cmd(self.bus.sender, "issue"),
                    command,
                    timeout=self.unit.request_timeout_s,
                    attempts=1,
                )
            except BusError:
                still.append(command)
                continue
            except QueueError as exc:
                if exc.code in self._uncertain:
                    still.append(command)
                else:
                    self.journal.settled(command["id"])  # refused: nothing was issued
                continue
            self._master_failed = False
            ticket = result.get("ticket")
            if isinstance(ticket, dict) and isinstance(ticket.get("id"), int):
                void = {
                    "id": new_command_id(self.unit.unit),
                    "ticket_id": ticket["id"],
                    "reason": f"kiosk {self.unit.unit}: no answer in time, nothing printed",
                }
                self._pending_voids.append((void, command["id"]))
            else:
                self.journal.settled(command["id"])
        self._orphans = still

    def _retry_voids(self) -> None:
        """Void every ticket that failed to print; keep those the master did
        not answer for the next round (same command id each time)."""
        if not self._master_reachable():
            return
        self._settle_orphans()
        still: list[tuple[dict[str, Any], str]] = []
        for command, request_id in self._pending_voids:
            try:
                self.bus.request(
                    self.topics.ticket_cmd(self.bus.sender, "void"),
                    command,
                    timeout=self.unit.request_timeout_s,
                    attempts=self.unit.request_attempts,
                )
                self.counts.voided += 1
                log.info("voided ticket id %s", command["ticket_id"])
            except BusError:
                still.append((command, request_id))
                continue
            except QueueError as exc:  # e.g. already called: nothing left to undo
                log.warning("void of ticket id %s refused: %s", command["ticket_id"], exc)
            self.journal.settled(request_id)
        self._pending_voids = still

    def _master_reachable(self) -> bool:
        """Worth asking: the broker is there and the master not known gone.
        (After a timeout we still ask on the next press: a master that
        stalled once must not lock the kiosk until it reconnects.)"""
        return self.bus.connected and self._master_online is not False

    def _refuse(self, why: str) -> None:
        self.counts.refused += 1
        log.warning("no ticket: %s", why)
        self.panel.alarm()
        self._publish()

    # -- status -----------------------------------------------------------
    def faults(self) -> list[dict[str, str]]:
        faults: list[dict[str, str]] = []
        status = self._printer_status
        if status is not None and not status.ready:
            faults.append({"code": f"printer_{status.state.value}", "message": status.reason})
        if not self._master_reachable() or self._master_failed:
            faults.append({"code": "master_unreachable", "message": "no answer from the master"})
        if self._print_fault:
            faults.append({"code": "print_failed", "message": self._print_fault})
        if self._rate_fault:
            faults.append({"code": "rate_limited", "message": self._rate_fault})
        if self._quorum_fault:
            faults.append({"code": "no_quorum", "message": self._quorum_fault})
        if self._pending_voids or self._orphans:
            ids = ", ".join(str(c["ticket_id"]) for c, _ in self._pending_voids)
            waiting = f"tickets to void: {ids}" if ids else "unanswered ticket requests"
            faults.append({"code": "void_pending", "message": waiting})
        return faults

    def _publish(self) -> None:
        faults = self.faults()
        status = self._printer_status
        ok = not faults
        self.panel.show(ok)
        printer = {
            "state": status.state.value if status else "unknown",
            "reason": status.reason if status else "",
            "paper_low": bool(status and status.paper_low),
        }
        counts = (self.counts.printed, self.counts.presses, self.counts.refused)
        key = (ok, tuple((f["code"], f["message"]) for f in faults), tuple(printer.items()), counts)
        if key == self._published and self.bus.connected:
            return
        self._published = key
        self.bus.set_status(
            "online" if ok else "degraded",
            faults,
            printer=printer,
            tickets_printed=self.counts.printed,
            presses=self.counts.presses,
            refused=self.counts.refused,
        )
