"""The printed ticket: one raster image as wide as the paper.

Everything on it is drawn by the shared Arabic renderer, large enough for a
citizen with weak eyesight: the number fills the width of the roll.  What it
shows is what the customer charter promises on entry: the number, the window
for the elderly and people with disabilities, the documents and fees of the
service, the complaint channels and the confidentiality of citizens' data.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from ..arabic import Align, ArabicRenderer, default_renderer
from ..config import Service
from ..config.branch import Config
from ..counted import CITIZEN, counted, duration
from ..label import ticket_label
from .options import TicketOptions


@dataclass(frozen=True)
class TicketFace:
    """What one printed ticket says (all of it comes from the master's answer
    and the configuration; the kiosk invents nothing)."""

    number: str
    service: Service
    priority: bool
    issued_at: datetime
    people_ahead: int | None = None
    wait_minutes: float | None = None
    reference: str = ""


def face_from_answer(cfg: Config, result: Mapping[str, Any]) -> TicketFace:
    """Build the face from the master's ``cmd/ticket/issue`` result.
    Raises ``KeyError``/``ValueError``/``TypeError`` for an answer that lacks
    what must be printed (the caller then voids the ticket)."""
    ticket = result["ticket"]
    estimate = result.get("estimate") or {}
    number = str(ticket["number"])
    if not number:
        raise ValueError("the master's ticket has no number")
    issued = datetime.fromisoformat(str(ticket["issued_at"]))
    if issued.tzinfo is None:
        raise ValueError("issued_at must carry its UTC offset")
    minutes = estimate.get("minutes")
    ahead = estimate.get("people_ahead")
    return TicketFace(
        number=number,
        service=cfg.service(str(ticket["service"])),
        priority=bool(ticket.get("priority", False)),
        issued_at=issued,
        people_ahead=int(ahead) if ahead is not None else None,
        wait_minutes=float(minutes) if minutes is not None else None,
        reference=f"NIDAA:{cfg.branch.id}:{issued.date().isoformat()}:{number}:{ticket['id']}",
    )


def sample_face(cfg: Config, service_key: str, *, priority: bool = False) -> TicketFace:
    """A plausible ticket for previews (``nidaa ticket preview``)."""
    service = cfg.service(service_key)
    now = datetime.now(ZoneInfo(cfg.branch.timezone))
    ahead = 4
    return TicketFace(
        number=f"{service.prefix}{service.first + ahead:03d}",
        service=service,
        priority=priority,
        issued_at=now,
        people_ahead=ahead,
        wait_minutes=ahead * service.service_minutes,
        reference=f"NIDAA:{cfg.branch.id}:{now.date().isoformat()}:{service.prefix}000:0",
    )


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _clock(moment: datetime) -> str:
    """12-hour time as read in Egypt: ``1:05 م`` (ص before noon, م after)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'ص' if moment.hour < 12 else 'م'}"


def _minutes(n: int) -> str:
    """``n`` minutes after «حوالي» (genitive: «حوالي دقيقتين»)."""
    return duration(n, case="gen")


def _people(n: int) -> str:
    if n == 0:
        return "لا أحد أمامك، تفضل بالانتظار لحين النداء"
    return f"أمامك {counted(n, CITIZEN)}"


class _Page:
    """A tall white strip that lines are stacked on, then cropped."""

    def __init__(self, renderer: ArabicRenderer, width: int) -> None:
        self.r = renderer
        self.width = width
        self.margin = max(8, width // 24)
        self.image = Image.new("L", (width, 6000), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def text(
        self, text: str, size: int, *, bold: bool = False, center: bool = True, fill: int = 0
    ) -> None:
        x = self.width / 2 if center else self.width - self.margin
        for line in self.r.wrap(text, size, self.inner, bold):
            align: Align = "center" if center else "right"
            _, h = self.r.draw(self.image, (x, self.y), line, size, bold, fill, align)
            self.y += h

    def bullets(self, items: list[str], size: int) -> None:
        bullet = "•"
        indent = self.r.measure(bullet, size)[0] + size // 3
        for item in items:
            lines = self.r.wrap(item, size, self.inner - indent)
            for i, line in enumerate(lines):
                right = self.width - self.margin
                if i == 0:
                    self.r.draw(self.image, (right, self.y), bullet, size)
                _, h = self.r.draw(self.image, (right - indent, self.y), line, size)
                self.y += h

    def two_columns(self, right: str, left: str, size: int) -> None:
        _, h = self.r.draw(self.image, (self.width - self.margin, self.y), right, size)
        self.r.draw(self.image, (self.margin, self.y), left, size, align="left")
        self.y += h

    def box(self, top: int, bottom: int) -> None:
        self.draw.rectangle((self.margin, top, self.width - self.margin, bottom), fill=0)

    def rule(self, thick: int = 3) -> None:
        self.y += thick * 2
        self.box(self.y, self.y + thick - 1)
        self.y += thick * 3

    def gap(self, pixels: int) -> None:
        self.y += pixels

    def banner(self, lines: list[str], size: int) -> None:
        """White text on a black band: the priority mark, seen at a glance."""
        pad = size // 3
        wrapped = [w for line in lines for w in self.r.wrap(line, size, self.inner - 2 * pad, True)]
        height = sum(self.r.measure(w, size, True)[1] for w in wrapped) + 2 * pad
        self.box(self.y, self.y + height)
        self.y += pad
        for w in wrapped:
            _, h = self.r.draw(self.image, (self.width / 2, self.y), w, size, True, 255, "center")
            self.y += h
        self.y += pad

    def number_size(self, number: str, lines: int = 1) -> int:
        """The size at which ``number`` fills the width (at most ~half the width
        tall, less when ``lines`` numbers are stacked)."""
        size = self.width // 2 if lines == 1 else self.width // 3
        while size > 24 and self.r.measure(number, size, True)[0] > self.inner:
            size -= 4
        return size

    def big_number(self, number: str, size: int | None = None) -> None:
        """The number as large as the paper allows."""
        size = size or self.number_size(number)
        # The line box includes room for Arabic marks above and below that a
        # number does not use: draw it, then trim the empty rows.
        strip = self.r.render_line(number, size, bold=True)
        box = strip.point(lambda v: 255 - v).getbbox()
        if box is not None:
            strip = strip.crop((0, box[1], strip.width, box[3]))
        self.gap(self.margin // 2)
        self.image.paste(strip, ((self.width - strip.width) // 2, self.y))
        self.y += strip.height + self.margin

    def paste_center(self, image: Image.Image) -> None:
        self.image.paste(image.convert("L"), ((self.width - image.width) // 2, self.y))
        self.y += image.height

    def finish(self) -> Image.Image:
        page = self.image.crop((0, 0, self.width, self.y + self.margin))
        return page.point(lambda v: 255 if v >= 128 else 0).convert("1")


def render_ticket(
    cfg: Config,
    face: TicketFace,
    width: int,
    options: TicketOptions | None = None,
    renderer: ArabicRenderer | None = None,
) -> Image.Image:
    """The ticket as a black-and-white image exactly ``width`` dots wide."""
    options = options or TicketOptions()
    r = renderer or default_renderer()
    page = _Page(r, width)
    # Letters 3-3.5 mm tall (8 dots per mm) on both papers: wider paper gets
    # more words per line rather than a longer ticket; only the number grows.
    body = max(24, min(28, width // 16))
    small = max(22, min(24, width // 18))
    branch, service = cfg.branch, face.service

    page.text(branch.name_ar, body, bold=True)
    page.rule()
    page.text(service.name_ar, max(28, width // 11), bold=True)
    if options.english and service.name_en:
        page.text(service.name_en, small)
    page.gap(small // 2)
    page.text("رقمك", body)
    forms = ticket_label(face.number).forms(branch.ticket_label)
    # Both forms the same size: a citizen who reads only Arabic letters
    # matches «هـ ١» to the hall's call as easily as another matches E001.
    size = min(page.number_size(form, len(forms)) for form in forms)
    for form in forms:
        page.big_number(form, size)

    if face.priority:
        windows = [str(c.number) for c in cfg.counters if c.priority]
        where = f"توجه إلى شباك رقم {' أو '.join(windows)}" if windows else ""
        page.banner(["أولوية: كبار السن وذوو الهمم", where] if where else ["أولوية"], body)
        page.gap(small // 2)

    local = face.issued_at.astimezone(ZoneInfo(branch.timezone))
    page.two_columns(f"التاريخ {local:%d/%m/%Y}", f"الساعة {_clock(local)}", small)
    if face.people_ahead is not None:
        page.text(_people(face.people_ahead), body, bold=True)
    if face.wait_minutes is not None:
        minutes = max(1, round(face.wait_minutes))
        page.text(f"الانتظار المتوقع حوالي {_minutes(minutes)}", body)

    if options.documents and service.documents_ar:
        page.rule()
        page.text("المستندات المطلوبة", body, bold=True, center=False)
        page.bullets(list(service.documents_ar), small)
    if options.documents and service.fees:
        page.gap(small // 3)
        page.text("الرسوم", body, bold=True, center=False)
        fees = [f"{fee.item_ar}: {_amount(fee.amount_egp)} جنيه" for fee in service.fees]
        page.bullets(fees, small)

    page.rule()
    page.text(f"الخط الساخن للشكاوى {branch.hotline}", body, bold=True)
    page.text(options.complaint_channel_ar, small)
    phones = [f"الطوارئ {branch.emergency}"] + ([f"المركز {branch.phone}"] if branch.phone else [])
    page.text("  -  ".join(phones), small)
    page.gap(small // 3)
    page.text(options.confidentiality_ar, small)

    if options.qr and face.reference:
        page.gap(small // 2)
        page.paste_center(_qr(face.reference, width // 3))
        page.text(options.qr_caption_ar, small)
    return page.finish()


def _qr(data: str, target: int) -> Image.Image:
    # qrcode ships no type information; keep it out of mypy's sight.
    qrcode: Any = importlib.import_module("qrcode")
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    modules = code.modules_count + 4
    code.box_size = max(2, target // modules)
    image: Image.Image = code.make_image().get_image()
    return image
