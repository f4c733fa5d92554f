"""A simulated GSM modem on a pseudo-terminal, for tests and `nidaa demo`.

It is the *device*, not a backend: the real :class:`~.at.AtModem` talks to
it over the pty's slave side exactly as it talks to a USB modem, so the
whole AT dialogue, PDU encoding and error handling is exercised.  It decodes
every PDU it accepts, answers ``+CMGS: <mr>``, sends ``+CDS`` delivery
reports, and records every part and every completed message (optionally as
JSON lines in ``record_file``).

Faults on demand: no SIM (``+CME ERROR: 10``), no network (``+CREG: 0,0``
or ``0,2``), a ``+CMS ERROR`` for the next sends, no answer (timeout),
a part accepted but never delivered, garbage on the line, and the cable
pulled (the pty closed; :meth:`replug` gives a fresh one behind the same
``link`` path).

Another process can inject the same faults (``nidaa demo --chaos``):
:meth:`follow` tails a control file and applies each line appended to it:
``cms CODE COUNT``, ``unplug``, ``replug``, ``garbage TEXT``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

from appliance.drivers.modem.pdu import PduError, Submit, decode_submit, encode_status_report


@dataclass
class SentPart:
    """A part the simulated network accepted."""

    submit: Submit
    message_ref: int
    delivered: bool
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class _Fault:
    kind: str  # "cms", "silent", "unplug", "drop"
    code: int = 0
    sent: bool = False
    report: int | None = None


class SimulatedModem:
    """A modem on a pty.  ``port`` is what a serial backend opens."""

    def __init__(self, link: str | Path | None = None, *, record_file: str | Path | None = None):
        self.link = Path(link) if link else None
        self.record_file = Path(record_file) if record_file else None
        # What the modem reports about itself; tests change these directly.
        self.sim_present = True
        self.registration = 1
        self.signal = 21
        self.report_status = 0x00  # TP-ST of delivery reports: delivered
        self.hold_reports = False
        # Records.
        self.commands: list[str] = []
        self.received: list[Submit] = []  # every decodable PDU, accepted or not
        self.sent: list[SentPart] = []
        self.messages: list[tuple[str, str]] = []  # (number, text) of complete messages
        self.errors: list[str] = []  # what the modem refused, for tests to read
        self._faults: collections.deque[_Fault] = collections.deque()
        self._held: list[tuple[int, str]] = []
        self._cond = threading.Condition()
        self._muted = False
        self._echo = True
        self._cmee = 0
        self._pdu_mode = False
        self._reports_on = False
        self._next_mr = 0
        self._master = -1
        self._slave = -1
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._unplug_now = False
        self._thread: threading.Thread | None = None
        self.plugged = threading.Event()

    # -- life cycle ---------------------------------------------------------------
    @property
    def port(self) -> str:
        return str(self.link) if self.link else os.ttyname(self._slave)

    def start(self) -> SimulatedModem:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(self._slave))
            os.replace(tmp, self.link)
        self._stop = self._unplug_now = False
        self._echo, self._cmee, self._pdu_mode, self._reports_on = True, 0, False, False
        self._thread = threading.Thread(target=self._run, name="sim-modem", daemon=True)
        self._thread.start()
        self.plugged.set()
        return self

    def stop(self) -> None:
        self._stop = True
        self._wake()
        if self._thread:
            self._thread.join(5)
        self._close_pty()

    def unplug(self) -> None:
        """Pull the cable: the pty closes and the other side sees I/O errors."""
        self._unplug_now = True
        self._wake()
        if self._thread:
            self._thread.join(5)

    def replug(self) -> None:
        self.unplug()
        self.start()

    def __enter__(self) -> SimulatedModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        os.close(self._wake_r)
        os.close(self._wake_w)

    # -- faults --------------------------------------------------------------------
    def follow(self, control_file: str | Path, interval: float = 0.2) -> None:
        """Apply every line appended to ``control_file`` (see the module doc)."""
        path = Path(control_file)
        path.touch()
        offset = path.stat().st_size  # only what comes after this start

        def tail() -> None:
            nonlocal offset
            while not self._stop:
                time.sleep(interval)  # a file has no wake-up: look a few times a second
                with contextlib.suppress(OSError):
                    with path.open("rb") as f:
                        f.seek(offset)
                        data = f.read()
                    complete = data[: data.rfind(b"\n") + 1]
                    offset += len(complete)
                    for line in complete.decode(errors="replace").splitlines():
                        self.control(line)

        threading.Thread(target=tail, name="sim-modem-control", daemon=True).start()

    def control(self, line: str) -> bool:
        """One control line; False (and nothing done) if it is not understood."""
        words = line.split(maxsplit=1)
        try:
            if words[:1] == ["cms"] and len(words) == 2:
                code, count = (int(w) for w in words[1].split())
                self.fail_next(code, count)
            elif words == ["unplug"]:
                self.unplug()
            elif words == ["replug"]:
                self.replug()
            elif words[:1] == ["garbage"] and len(words) == 2:
                self.inject(words[1].encode() + b"\r\n")
            else:
                return False
        except ValueError:
            return False
        return True

    def fail_next(self, cms: int, count: int = 1, *, after: int = 0) -> None:
        """Let ``after`` sends through, then answer ``count`` with ``+CMS ERROR: <cms>``."""
        self._faults.extend(_Fault("none") for _ in range(after))
        self._faults.extend(_Fault("cms", cms) for _ in range(count))

    def silence_next(self, count: int = 1, *, sent: bool = True) -> None:
        """Take the next PDUs without answering; ``sent``: the network got them anyway."""
        self._faults.extend(_Fault("silent", sent=sent) for _ in range(count))

    def unplug_on_next_send(self, *, sent: bool = True) -> None:
        """Pull the cable right after the next PDU arrived."""
        self._faults.append(_Fault("unplug", sent=sent))

    def drop_next(self, count: int = 1, *, report: int | None = 0x41) -> None:
        """Accept the next parts (+CMGS) but never deliver them; the delivery
        report carries TP-ST ``report`` (None: no report at all)."""
        self._faults.extend(_Fault("drop", report=report) for _ in range(count))

    def mute(self, on: bool = True) -> None:
        """Answer nothing at all (a hung modem)."""
        self._muted = on

    def inject(self, data: bytes) -> None:
        """Write raw bytes to the line: unsolicited noise or garbage."""
        self._send(data)

    def release_reports(self) -> None:
        held, self._held = self._held, []
        for length, pdu in held:
            self._send(f"\r\n+CDS: {length}\r\n{pdu}\r\n".encode())

    # -- waiting (tests synchronise on these, never on sleep) ----------------------
    def wait_for(self, what: str, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``len(self.<what>) >= count`` (``sent``, ``messages``...)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(getattr(self, what)) >= count, timeout)

    # -- the device ----------------------------------------------------------------
    def _wake(self) -> None:
        os.write(self._wake_w, b"x")

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1
        self.plugged.clear()

    def _send(self, data: bytes) -> None:
        if self._master >= 0:
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def _run(self) -> None:
        buf = bytearray()
        cmgs_length: int | None = None
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
            if self._stop:
                return
            if self._unplug_now:
                self._close_pty()
                return
            if self._master not in ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                chunk = b""
            if not chunk:  # the other side closed: wait for it to open again
                select.select([self._wake_r], [], [], 0.05)
                continue
            buf += chunk
            while True:
                if cmgs_length is not None:
                    end = next((i for i, b in enumerate(buf) if b in (0x1A, 0x1B)), -1)
                    if end < 0:
                        break
                    pdu, cancelled = bytes(buf[:end]), buf[end] == 0x1B
                    del buf[: end + 1]
                    if not cancelled:
                        self._on_pdu(cmgs_length, pdu.decode("ascii", "replace").strip())
                    cmgs_length = None
                    if self._unplug_now:
                        self._close_pty()
                        return
                    continue
                end = next((i for i, b in enumerate(buf) if b == 0x0D), -1)
                if end < 0:
                    break
                line = bytes(buf[:end]).decode("ascii", "replace").strip()
                del buf[: end + 1]
                if line:
                    cmgs_length = self._on_command(line)

    def _reply(self, *lines: str) -> None:
        self._send(b"".join(f"\r\n{ln}\r\n".encode() for ln in lines))

    def _error(self, kind: str, code: int) -> None:
        self.errors.append(f"+{kind} ERROR: {code}")
        self._reply(f"+{kind} ERROR: {code}" if self._cmee or kind == "CMS" else "ERROR")

    def _on_command(self, line: str) -> int | None:
        with self._cond:
            self.commands.append(line)
            self._cond.notify_all()
        if self._muted:
            return None
        if self._echo:
            self._send(line.encode() + b"\r")
        cmd = line.upper()
        if cmd in ("AT", "AT+CNMA") or cmd.startswith("AT+CSMS"):
            self._reply("OK")
        elif cmd in ("ATE0", "ATE1"):
            self._echo = cmd == "ATE1"
            self._reply("OK")
        elif cmd in ("AT+CMEE=0", "AT+CMEE=1", "AT+CMEE=2"):
            self._cmee = int(cmd[-1])
            self._reply("OK")
        elif cmd == "AT+CPIN?":
            if self.sim_present:
                self._reply("+CPIN: READY", "OK")
            else:
                self._error("CME", 10)
        elif cmd == "AT+CREG?":
            if self.sim_present:
                self._reply(f"+CREG: 0,{self.registration}", "OK")
            else:
                self._error("CME", 10)
        elif cmd == "AT+CSQ":
            self._reply(f"+CSQ: {self.signal},99", "OK")
        elif cmd.startswith("AT+CMGF="):
            self._pdu_mode = cmd.endswith("=0")
            self._reply("OK")
        elif cmd.startswith("AT+CNMI="):
            params = cmd[8:].split(",")
            self._reports_on = len(params) > 3 and params[3].strip() == "1"
            self._reply("OK")
        elif cmd.startswith("AT+CMGS="):
            return self._on_cmgs(cmd[8:])
        else:
            self._reply("ERROR")
        return None

    def _on_cmgs(self, arg: str) -> int | None:
        if not self.sim_present:
            self._error("CMS", 310)
        elif self.registration not in (1, 5):
            self._error("CMS", 331)
        elif not self._pdu_mode:
            self._error("CMS", 302)
        elif not arg.isdigit() or not 7 <= int(arg) <= 164:
            self._error("CMS", 304)
        else:
            self._send(b"\r\n> ")
            return int(arg)
        return None

    def _on_pdu(self, length: int, pdu: str) -> None:
        try:
            submit = decode_submit(pdu)
            smsc = bytes.fromhex(pdu[:2])[0]
            if len(pdu) // 2 - 1 - smsc != length:
                raise PduError(f"AT+CMGS={length} but the PDU has {len(pdu) // 2 - 1 - smsc}")
        except (PduError, ValueError, IndexError):
            self._error("CMS", 304)
            return
        with self._cond:
            self.received.append(submit)
            self._cond.notify_all()
        fault = self._faults.popleft() if self._faults else _Fault("none")
        if fault.kind == "cms":
            self._error("CMS", fault.code)
            return
        mr = self._next_mr
        self._next_mr = (mr + 1) % 256
        if fault.kind in ("silent", "unplug"):
            # The network took the PDU (``sent``) or not; either way no answer comes.
            if fault.sent:
                self._record(SentPart(submit, mr, delivered=True))
            self._unplug_now = fault.kind == "unplug"
            return
        self._record(SentPart(submit, mr, delivered=fault.kind == "none"))
        status = self.report_status if fault.kind == "none" else fault.report
        report = None
        if submit.status_report and self._reports_on and status is not None:
            report = encode_status_report(mr, submit.number, status)
            if self.hold_reports:
                # Held before answering, so a test that releases reports after
                # send() returned always finds it.
                self._held.append(report)
                report = None
        self._reply(f"+CMGS: {mr}", "OK")
        if report:
            self._send(f"\r\n+CDS: {report[0]}\r\n{report[1]}\r\n".encode())

    def _record(self, part: SentPart) -> None:
        with self._cond:
            self.sent.append(part)
            if part.delivered:
                self._complete(part.submit)
            self._cond.notify_all()

    def _complete(self, submit: Submit) -> None:
        if submit.concat is None:
            self._message(submit.number, submit.text)
            return
        ref, total, _ = submit.concat
        group = {
            p.submit.concat[2]: p.submit.text
            for p in self.sent
            if p.delivered
            and p.submit.number == submit.number
            and p.submit.concat
            and p.submit.concat[:2] == (ref, total)
        }
        # Complete once: a resent part of a finished message adds nothing new.
        first_copy = sum(1 for p in self.sent if p.delivered and p.submit == submit) == 1
        if len(group) == total and first_copy:
            self._message(submit.number, "".join(group[i] for i in sorted(group)))

    def _message(self, number: str, text: str) -> None:
        self.messages.append((number, text))
        if self.record_file:
            with self.record_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"number": number, "text": text}, ensure_ascii=False) + "\n")
