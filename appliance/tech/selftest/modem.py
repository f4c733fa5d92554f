"""`nidaa test modem`: the SMS gateway's GSM modem.

Talks to the modem through the gateway's own AT driver: AT, then the SIM
(AT+CPIN?), the network registration (AT+CREG?) and the signal (AT+CSQ,
shown in dBm and bars).  With ``--send NUMBER`` it also sends the branch's
"test" SMS straight through the modem (``nidaa sms test`` tests the whole
path instead: master, bus, gateway and outbox).
"""

from __future__ import annotations

import time

from ...config.branch import Config
from ...drivers.modem import Health, Modem, ModemError, open_modem
from ...drivers.modem.pdu import StatusReport, encode
from ...errors import ConfigError
from ...sms import phone
from ...sms.config import field_values, render
from .hints import access_problem, stop_daemon, warn_if_running
from .result import Progress, SelfTest, quiet

REGISTRATION = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
}


def signal_dbm(rssi: int) -> int | None:
    """+CSQ <rssi> in dBm (27.007: 0 is -113 dBm or less, 31 is -51 or more)."""
    return None if rssi == 99 or not 0 <= rssi <= 31 else -113 + 2 * rssi


def signal_bars(rssi: int) -> int:
    """0-4 bars as a phone would show them."""
    if rssi == 99 or rssi < 2:
        return 0
    return 1 if rssi < 10 else 2 if rssi < 15 else 3 if rssi < 20 else 4


def _checks(fault: str, port: str) -> list[str]:
    if fault == "unplugged":
        return [
            access_problem(port) if port != "sim" else "",
            f"the modem's USB cable and power; `ls -l {port}` (USB modems offer several "
            "ports: the AT port is often ttyUSB2)",
            stop_daemon("sms-gateway"),
        ]
    if fault == "timeout":
        return [
            f"that {port} is the modem's AT port (try the other ttyUSB ports)",
            "the modem's power (a SIM800 needs 2 A peaks) and its status LED",
            stop_daemon("sms-gateway"),
        ]
    if fault == "no_sim":
        return ["the SIM card is seated (chip down), and has no PIN lock (test it in a phone)"]
    if fault == "no_network":
        return [
            "the antenna is screwed on; move it near a window",
            "the SIM is active with credit (test it in a phone)",
        ]
    return []


def _health(result: SelfTest, health: Health, port: str) -> bool:
    """Record SIM, network and signal; False when the modem cannot send."""
    if not health.sim_ready:
        result.fail("SIM (AT+CPIN?)", "no SIM card, or locked with a PIN", *_checks("no_sim", port))
        return False
    result.step("SIM (AT+CPIN?)", True, "READY")
    reg = REGISTRATION.get(health.registration, f"state {health.registration}")
    dbm, bars = signal_dbm(health.signal), signal_bars(health.signal)
    shown = f"{dbm} dBm, {bars}/4 bars" if dbm is not None else "unknown (no signal)"
    result.details.update(
        registration=health.registration, rssi=health.signal, signal_dbm=dbm, bars=bars
    )
    if not health.registered:
        result.fail(
            "network (AT+CREG?)",
            f"{reg} (+CREG {health.registration}); signal {shown}",
            *_checks("no_network", port),
        )
        return False
    result.step("network (AT+CREG?)", True, reg)
    if bars == 0:
        result.fail("signal (AT+CSQ)", shown, *_checks("no_network", port))
        return False
    result.step("signal (AT+CSQ)", True, shown)
    if bars == 1:
        result.warn("the signal is weak: SMS may be slow; move the antenna")
    return True


def _await_report(modem: Modem, refs: set[int], timeout: float) -> StatusReport | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        for report in modem.poll(left):
            if report.message_ref in refs:
                return report
    return None


def run(
    cfg: Config, *, send_to: str = "", progress: Progress = quiet, report_timeout: float = 30.0
) -> SelfTest:
    if cfg.sms is None:
        raise ConfigError([("sms", "no [sms] section: this branch has no SMS gateway")])
    sms = cfg.sms
    number = ""
    if send_to:
        try:
            number = phone.normalize(send_to)
        except phone.PhoneNumberError as exc:
            raise ConfigError([("--send", str(exc))]) from None
    result = SelfTest("modem", sms.unit, progress)
    result.details.update(port=sms.modem, baudrate=sms.baudrate)
    progress(f"modem of {sms.unit}: {sms.modem} at {sms.baudrate} baud")
    warn_if_running(result, "sms-gateway")
    modem, sim = open_modem(
        sms.modem,
        sms.baudrate,
        command_timeout=sms.modem_timeout_s,
        send_timeout=sms.send_timeout_s,
    )
    try:
        try:
            health = modem.start()
        except ModemError as exc:
            what = {"unplugged": "port", "timeout": "AT"}.get(exc.fault, "AT")
            return result.fail(what, f"{exc} ({exc.fault})", *_checks(exc.fault, sms.modem))
        result.step("AT", True, "OK; PDU mode and delivery reports set")
        if not _health(result, health, sms.modem) or not number:
            if result.ok:
                progress("  (add --send NUMBER to send a test SMS; `nidaa sms test NUMBER` "
                         "tests the whole path through the master and the gateway)")  # fmt: skip
            return result
        text = render(sms.all_templates["test"], field_values(cfg))
        refs = []
        try:
            for part in encode(number, text, status_report=True):
                refs.append(modem.send(part))
        except ModemError as exc:
            return result.fail("send", f"{exc.code_text}: {exc}", *_checks(exc.fault, sms.modem))
        result.details.update(sent_to=phone.mask(number), message_refs=refs)
        result.step(
            "send",
            True,
            f"test SMS accepted by the network (reference {', '.join(map(str, refs))})",
        )
        progress(f"  waiting up to {report_timeout:g} s for the delivery report...")
        report = _await_report(modem, set(refs), report_timeout)
        if report is None:
            result.warn(f"no delivery report within {report_timeout:g} s (the phone may be off)")
        elif report.delivered:
            result.step("delivery", True, f"delivered at {report.delivered_at:%H:%M:%S}")
        else:
            result.warn(f"the network reports the SMS not delivered (TP-ST 0x{report.status:02x})")
        return result
    finally:
        modem.close()
        if sim is not None:
            sim.stop()
