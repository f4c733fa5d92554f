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
#: Each fits one SMS (70 Arabic characters) with a centre name of up to 21
#: characters (``[sms] centre_name``), a 4-digit ticket in both forms
#: (``هـ ٩٩٩٩ (E9999)``) and the master's reference (``20261231-E9999``).
DEFAULT_TEMPLATES = {
    "issued": "{centre}: رقمكم {ticket}، سنبلغكم عند قرب دوركم.",
    "near": "{centre}: اقترب دوركم {ticket}، انتظروا بالقاعة.",
    "called": "{centre}: حان دوركم {ticket}، توجهوا للشباك {window}.",
    "received": "{centre}: تم استلام طلبكم رقم {ref}.",
    "review": "{centre}: طلبكم رقم {ref} قيد المراجعة.",
    "ready": "{centre}: طلبكم {ref} جاهز، أحضروا بطاقة الهوية.",
    "completed": "{centre}: انتهى طلبكم {ref}. للشكاوى: {hotline}.",
    "test": "{centre}: رسالة تجريبية من بوابة الرسائل.",
}
#: A template longer than this is refused at validation (7 Arabic SMS parts
#: hold 469 characters; a template is a text message, not a letter).
MAX_TEMPLATE_CHARS = 1000


def template_fields(template: str) -> list[str]:
    """Field names used by ``template``; ``ValueError`` if it is malformed."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def check_template(stage: str, template: str) -> Iterator[str]:
    try:
        names = template_fields(template)
    except ValueError as exc:
        yield f"malformed template: {exc} (write {{{{ and }}}} for literal braces)"
        return
    if len(template) > MAX_TEMPLATE_CHARS:
        yield f"a template may hold at most {MAX_TEMPLATE_CHARS:,} characters, not {len(template):,}"
        return
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (spec or conversion):
            # «{ref:>100000000}» would pad every SMS to 100 million characters.
            yield f"{{{name}}} takes no format spec or conversion; write {{{name}}}"
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
    centre_name: str = setting(
        "The centre's name at the head of every SMS ({centre}); keep it short (every "
        "character counts: 70 Arabic characters make one SMS). Empty: branch.name_ar.",
        default="",
    )
    max_parts: int = setting(
        "`nidaa config validate` refuses a template that, filled with the longest realistic "
        "values, needs more SMS parts than this.",
        default=2,
        minimum=1,
        maximum=10,
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


# -- the whole branch's view of its templates ------------------------------------
def field_values(
    cfg: Any, ticket: Any = None, ref: Any = None, window: Any = None
) -> dict[str, Any]:
    """What the fields of a template say in this branch: the centre's SMS name,
    and the ticket in the branch's label form (the same as paper and hall)."""
    from ..label import ticket_label

    sms = cfg.sms
    return {
        "centre": (sms.centre_name if sms is not None else "") or cfg.branch.name_ar,
        "hotline": cfg.branch.hotline,
        "ticket": (
            ticket_label(ticket).text(cfg.branch.ticket_label)
            if isinstance(ticket, str)
            else ticket
        ),
        "ref": ref,
        "window": window,
    }


def longest_values(cfg: Any) -> dict[str, str]:
    """The longest value each field takes in this branch (``cfg`` a Config).

    The ticket is the highest number of the service with the longest label, in
    the branch's ``ticket_label`` form; the reference is the master's own form
    (``YYYYMMDD-E999``); the window the highest counter number."""
    from ..label import ticket_label
    from ..queue.engine import label_for

    latin = [label_for(s, s.last) for s in cfg.services]
    longest = max(latin, key=lambda t: len(ticket_label(t).text(cfg.branch.ticket_label)))
    values = field_values(
        cfg, longest, f"20261231-{max(latin, key=len)}", max(c.number for c in cfg.counters)
    )
    return {k: str(v) for k, v in values.items()}


def template_parts(cfg: Any) -> dict[str, int]:
    """Stage → SMS parts of its template filled with :func:`longest_values`."""
    from ..drivers.modem.pdu import split

    assert cfg.sms is not None
    values = longest_values(cfg)
    parts = {}
    for stage, template in cfg.sms.all_templates.items():
        fields = {k: v for k, v in values.items() if k != "window" or stage in STAGES_WITH_WINDOW}
        parts[stage] = len(split(render(template, fields))[1])
    return parts


def check_sms(cfg: Any) -> Iterator[tuple[str, str]]:
    """Rules of the ``[sms]`` section that need the whole branch."""
    sms = cfg.sms
    if sms is None or not cfg.services or not cfg.counters:
        return
    if any(list(check_template(stage, t)) for stage, t in sms.templates.items()):
        return  # already reported by SmsGateway.check
    for stage, n in template_parts(cfg).items():
        if n > sms.max_parts:
            path = f"sms.templates.{stage}" if stage in sms.templates else "sms.centre_name"
            yield (
                path,
                (
                    f"the {stage!r} SMS takes {n} parts with the longest values "
                    f"(at most sms.max_parts = {sms.max_parts}); shorten it"
                    + ("" if stage in sms.templates else " or set a short sms.centre_name")
                ),
            )
