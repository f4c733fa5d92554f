"""Configuration of the SMS gateway unit: the ``[sms]`` section.

Templates are Arabic text with fields in braces, one per stage of a request.
Every template is checked when the configuration is loaded: a field that
does not exist (``{windw}``), or a window number on a stage that has no
window, is reported with its path and the gateway does not start.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..config.schema import setting

STAGE = r"[a-z][a-z0-9_-]{0,31}"

#: Every template may use these fields.
FIELDS = {
    "centre": "the centre's Arabic name (branch.name_ar)",
    "ticket": "the ticket number, e.g. A001",
    "ref": "the request reference",
    "hotline": "the complaints hotline (branch.hotline)",
    "window": "the window number (only at the 'called' stage)",
}
STAGES_WITH_WINDOW = frozenset({"called"})

#: Stages the master emits by itself (issued, near, called) or that the
#: back office sets; a centre adds its own in ``sms.templates``.
DEFAULT_TEMPLATES = {
    "issued": "{centre}: تم تسجيل رقمكم {ticket}، وسنرسل لكم رسالة عند اقتراب دوركم.",
    "near": "{centre}: اقترب دوركم، رقم {ticket}. يرجى التواجد بقاعة الانتظار.",
    "called": "{centre}: حان دوركم، رقم {ticket}. يرجى التوجه إلى الشباك {window}.",
    "received": "{centre}: تم استلام طلبكم رقم {ref}.",
    "review": "{centre}: طلبكم رقم {ref} قيد المراجعة.",
    "ready": "{centre}: طلبكم رقم {ref} جاهز للاستلام. يرجى الحضور ومعكم بطاقة الرقم القومي.",
    "completed": "{centre}: تم الانتهاء من طلبكم رقم {ref}. للشكاوى والمقترحات: {hotline}.",
    "test": "{centre}: رسالة تجريبية من بوابة الرسائل القصيرة.",
}


def template_fields(template: str) -> list[str]:
    """Field names used by ``template``; ``ValueError`` if it is malformed."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def check_template(stage: str, template: str) -> Iterator[str]:
    try:
        names = template_fields(template)
    except ValueError as exc:
        yield f"malformed template: {exc} (write {{{{ and }}}} for literal braces)"
        return
    for name in names:
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            yield f"unknown field {{{name}}}; a template may use {known}"
        elif name == "window" and stage not in STAGES_WITH_WINDOW:
            yield f"{{window}} is only known at the 'called' stage, not at {stage!r}"
    if not template.strip():
        yield "a template cannot be empty"


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a checked template; a missing value shows as an empty string."""
    return template.format_map({k: "" if v is None else v for k, v in values.items()})


@dataclass(frozen=True)
class SmsGateway:
    """The SMS gateway unit: a GSM modem that sends an Arabic SMS at every stage."""

    unit: str = setting(
        "Unit id of the gateway (its MQTT user name).",
        default="sms1",
        pattern=r"[a-z0-9][a-z0-9_-]*",
    )
    modem: str = setting(
        "Serial device of the GSM modem (e.g. /dev/ttyUSB2, or a pyserial URL); "
        "'sim' runs the simulated modem on a pseudo-terminal.",
        default="/dev/ttyUSB2",
    )
    baudrate: int = setting("Serial speed of the modem.", default=115200, minimum=1200)
    outbox: str = setting(
        "The gateway's own SQLite outbox.", default="/var/lib/nidaa/sms-outbox.db"
    )
    templates: dict[str, str] = setting(
        "Arabic text per stage, fields in braces: {centre} {ticket} {ref} {hotline} and, "
        "at 'called', {window}. Replaces the built-in text of a stage, or adds a stage.",
        default_factory=dict,
    )
    near_turn: int = setting(
        "Send the 'near' SMS when this many people or fewer are ahead.",
        default=3,
        minimum=1,
        maximum=50,
    )
    rate_per_minute: int = setting(
        "At most this many SMS parts per minute (operator limits).", default=20, minimum=1
    )
    max_attempts: int = setting(
        "Failed attempts before a message goes to the dead letters.",
        default=8,
        minimum=1,
        maximum=100,
    )
    backoff_s: float = setting(
        "Wait after the first failure; doubled after each further one.",
        default=30.0,
        minimum=0.1,
    )
    max_backoff_s: float = setting("Longest wait between attempts.", default=3600.0, minimum=1)
    retention_days: int = setting(
        "Days phone numbers and finished messages are kept (master and gateway).",
        default=30,
        minimum=1,
        maximum=365,
    )
    # Both stay below half the systemd watchdog (WatchdogSec=30 in the unit file):
    # the sender pings it between modem operations.
    modem_timeout_s: float = setting(
        "Seconds to wait for the modem's answer to a command.",
        default=10.0,
        minimum=0.1,
        maximum=14,
        aliases=("command_timeout_s",),
    )
    send_timeout_s: float = setting(
        "Seconds to wait for +CMGS after a PDU.", default=14.0, minimum=0.1, maximum=14
    )
    resend_unacked_s: float = setting(
        "The master publishes a stage event again until the gateway acknowledged it, this often.",
        default=30.0,
        minimum=0.5,
    )
    sim_record: str = setting(
        "With modem = 'sim': a JSON-lines file where every SMS 'sent' is saved; beside it "
        "<name>.tty links to the modem and lines appended to <name>.ctl inject faults "
        "(cms CODE COUNT, unplug, replug, garbage TEXT).",
        default="",
    )

    @property
    def all_templates(self) -> dict[str, str]:
        return DEFAULT_TEMPLATES | self.templates

    def check(self) -> Iterator[tuple[str, str]]:
        import re

        for stage, template in self.templates.items():
            if not re.fullmatch(STAGE, stage):
                yield f"templates.{stage}", f"a stage name must match {STAGE}"
            for problem in check_template(stage, template):
                yield f"templates.{stage}", problem
        if self.max_backoff_s < self.backoff_s:
            yield "max_backoff_s", f"must be at least backoff_s ({self.backoff_s})"
