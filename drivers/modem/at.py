"""A GSM modem driven by AT commands over a serial port (pyserial), PDU mode.

Works with the usual USB and HAT modems (SIM800, SIM7600, Quectel EC25...):
``AT+CMGF=0`` (PDU mode), ``AT+CNMI=2,1,0,1,0`` so delivery reports arrive
unsolicited as ``+CDS: <len>`` followed by the report PDU, and
``AT+CMGS=<len>`` / ``> `` prompt / PDU / Ctrl-Z for every part.

Unsolicited lines can arrive in the middle of any answer; they are picked
out wherever they appear, so a delivery report is never mistaken for the
answer to a command and never lost.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from appliance.drivers.modem.pdu import Part, PduError, StatusReport, decode_status_report

from .interface import Health, Modem, ModemError, cms_error

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"
_FINAL_ERR = re.compile(r"^\+(CMS|CME) ERROR: *(\d+)$")
INIT = ("ATE0", "AT+CMEE=1", "AT+CMGF=0", "AT+CNMI=2,1,0,1,0")


class AtModem(Modem):
    """``port`` is a device (``/dev/ttyUSB2``) or any pyserial URL."""

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        command_timeout: float = 5.0,
        send_timeout: float = 60.0,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.command_timeout = command_timeout
        self.send_timeout = send_timeout
        self._serial: Any = None
        self._buf = bytearray()
        self._reports: list[StatusReport] = []

    # -- life cycle ------------------------------------------------------------
    def start(self) -> Health:
        self.close()
        try:
            import serial
        except ImportError:  # pragma: no cover - declared in setup.py
            raise ModemError("unplugged", "pyserial is missing: pip install pyserial") from None
        try:
            self._serial = serial.serial_for_url(self.port, self.baudrate, timeout=0.1)
        except (OSError, serial.SerialException) as exc:
            raise ModemError("unplugged", f"cannot open modem {self.port}: {exc}") from None
        self._buf.clear()
        # A modem that just booted may miss the first AT; try a few times.
        for attempt in range(3):
            try:
                self.command("AT", timeout=min(self.command_timeout, 2.0))
                break
            except ModemError as exc:
                if exc.fault != "timeout" or attempt == 2:
                    raise
        for cmd in INIT:
            self.command(cmd)
        return self.health()

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.close()
            self._serial = None

    def health(self) -> Health:
        try:
            cpin = self._value(self.command("AT+CPIN?"), "+CPIN:")
            sim_ready = cpin.strip().upper() == "READY"
        except ModemError as exc:
            if exc.cme is None:
                raise
            sim_ready = False  # +CME ERROR 10 (no SIM), 11/12 (PIN/PUK)...
        registration = 0
        if sim_ready:
            creg = self._value(self.command("AT+CREG?"), "+CREG:").split(",")
            registration = _int(creg[1] if len(creg) > 1 else creg[0], "+CREG")
        csq = self._value(self.command("AT+CSQ"), "+CSQ:").split(",")
        return Health(sim_ready, registration, _int(csq[0], "+CSQ"))

    # -- sending ------------------------------------------------------------------
    def send(self, part: Part) -> int:
        self._drain()
        self._write(f"AT+CMGS={part.length}\r".encode())
        self._wait_prompt()
        # From here on the modem may have sent the SMS even if we never hear so.
        try:
            self._write(part.pdu.encode("ascii") + CTRL_Z)
            lines = self._final(self.send_timeout)
        except ModemError as exc:
            exc.maybe_sent = exc.fault in ("timeout", "unplugged")
            raise
        value = self._value(lines, "+CMGS:", missing_ok=True)
        if value is None:
            raise ModemError(
                "garbage", "OK without +CMGS: message reference unknown", maybe_sent=True
            )
        return _int(value.split(",")[0], "+CMGS")

    def poll(self, timeout: float) -> list[StatusReport]:
        self._drain()
        deadline = time.monotonic() + timeout
        while not self._reports:
            line = self._line(deadline)
            if line is None:
                break
            if line:
                log.warning("modem said %r out of turn; ignored", line[:60])
        reports, self._reports = self._reports, []
        return reports

    # -- the AT dialogue ------------------------------------------------------------
    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Send ``cmd`` and return the lines before its ``OK``."""
        self._drain()
        self._write(cmd.encode("ascii") + b"\r")
        return [ln for ln in self._final(timeout or self.command_timeout) if ln != cmd]

    def _final(self, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._line(deadline)
            if line is None:
                raise ModemError("timeout", f"no answer from the modem within {timeout:g} s")
            if line == "OK":
                return lines
            if line == "ERROR":
                raise ModemError("rejected", "the modem answered ERROR", temporary=True)
            m = _FINAL_ERR.match(line)
            if m:
                code = int(m.group(2))
                if m.group(1) == "CMS":
                    raise cms_error(code)
                fault = "no_sim" if code in (10, 13, 15) else "rejected"
                raise ModemError(fault, f"+CME ERROR {code}", cme=code)
            if line:
                lines.append(line)

    def _wait_prompt(self) -> None:
        deadline = time.monotonic() + self.command_timeout
        while True:
            line = self._complete_line()
            if line is not None:
                if line.startswith("+CDS:"):
                    self._take_report(deadline)
                elif line == "ERROR" or _FINAL_ERR.match(line):
                    self._buf[:0] = (line + "\r\n").encode()  # let _final raise it
                    self._final(0.1)
                elif line:
                    log.warning("modem said %r before the prompt; ignored", line[:60])
                continue
            if self._buf.lstrip().startswith(b">"):
                # Keep whatever follows the prompt (a report may come right after).
                del self._buf[: self._buf.index(b">") + 1]
                if self._buf.startswith(b" "):
                    del self._buf[:1]
                return
            if not self._fill(deadline):
                self._write(ESC)  # leave the prompt state should it come late
                raise ModemError("timeout", "no '> ' prompt after AT+CMGS")

    def _drain(self) -> None:
        """Take what arrived since the last answer (late answers, reports) out
        of the way, so it is not mistaken for the answer to the next command."""
        serial = self._serial_or_fail()
        try:
            waiting = serial.in_waiting
            if waiting:
                self._buf += serial.read(waiting)
        except _io_errors() as exc:
            self.close()
            raise ModemError("unplugged", f"modem {self.port} is gone: {exc}") from None
        # A report's PDU line may still be on its way.
        deadline = time.monotonic() + min(self.command_timeout, 1.0)
        while (line := self._complete_line()) is not None:
            if line.startswith("+CDS:"):
                self._take_report(deadline)
            elif line:
                log.warning("late or unexpected line from the modem %r; ignored", line[:60])
        # An incomplete line stays: it is the start of something still arriving.

    def _line(self, deadline: float) -> str | None:
        """The next line that is not an unsolicited report; None on timeout."""
        while True:
            line = self._complete_line()
            if line is not None:
                if line.startswith("+CDS:"):
                    self._take_report(deadline)
                    continue
                return line
            if not self._fill(deadline):
                return None

    def _take_report(self, deadline: float) -> None:
        pdu = None
        while pdu is None:
            pdu = self._complete_line()
            if pdu is None and not self._fill(deadline):
                log.warning("+CDS without its PDU; report lost")
                return
            if pdu == "":
                pdu = None
        try:
            self._reports.append(decode_status_report(pdu))
        except PduError as exc:
            log.warning("unreadable delivery report %r: %s", pdu[:60], exc)

    def _complete_line(self) -> str | None:
        for i, byte in enumerate(self._buf):
            if byte in (10, 13):
                raw = bytes(self._buf[:i])
                del self._buf[: i + 1]
                return raw.decode("ascii", errors="replace").strip()
        return None

    def _fill(self, deadline: float) -> bool:
        """Read what the modem has sent; False once ``deadline`` passed with nothing."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                port = self._serial_or_fail()
                port.timeout = min(remaining, 0.2)
                # read(n) waits for all n bytes: ask for one, then for what is there.
                chunk = port.read(1)
                if chunk and port.in_waiting:
                    chunk += port.read(port.in_waiting)
            except _io_errors() as exc:
                self.close()
                raise ModemError("unplugged", f"modem {self.port} is gone: {exc}") from None
            if chunk:
                self._buf += chunk
                return True

    def _write(self, data: bytes) -> None:
        try:
            self._serial_or_fail().write(data)
            self._serial_or_fail().flush()
        except _io_errors() as exc:
            self.close()
            raise ModemError("unplugged", f"modem {self.port} is gone: {exc}") from None

    def _serial_or_fail(self) -> Any:
        if self._serial is None:
            raise ModemError("unplugged", f"modem {self.port} is not open")
        return self._serial

    @staticmethod
    def _value(lines: list[str], prefix: str, missing_ok: bool = False) -> Any:
        for line in lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        if missing_ok:
            return None
        raise ModemError("garbage", f"expected {prefix} in the answer, got {lines!r}"[:200])


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ModemError("garbage", f"{what} value {text!r} is not a number") from None


def _io_errors() -> tuple[type[BaseException], ...]:
    """What pyserial raises when the device goes away (termios.error is no OSError)."""
    import serial

    errors: list[type[BaseException]] = [OSError, serial.SerialException]
    try:
        import termios

        errors.append(termios.error)
    except ImportError:  # pragma: no cover - Windows
        pass
    return tuple(errors)
