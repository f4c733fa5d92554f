"""The printed ticket: one raster image as wide as the paper.

Everything on it is drawn by the shared Arabic renderer, large enough for a
citizen with weak eyesight: the number fills the width of the roll.  What it
shows is what the customer charter promises on entry: the number, the window
for the elderly and people with disabilities, the documents and fees of the
service, the complaint channels and the confidentiality of citizens' data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageChops, ImageDraw

from ..arabic import Align, ArabicRenderer, default_renderer
from ..config import Service
from ..config.branch import Config
from ..counted import CITIZEN, counted, duration
from ..label import ticket_label
from .options import TicketOptions
from .qr import qr_image


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


def beside(method: Callable[..., None]) -> Callable[..., None]:
    """Marks a :func:`band` method that draws on rows another drawing fills,
    without moving down (the left column of a line): the band cache lays its
    ink over those rows when the two share no pixel."""
    method.beside = True  # type: ignore[attr-defined]
    return band(method)


def band(method: Callable[..., None]) -> Callable[..., None]:
    """Marks a :class:`_Page` method that draws: it draws only in the rows from
    ``self.y`` down to where it leaves ``self.y``, and what it draws depends
    only on its arguments and the page width.  The kiosk's band cache
    (:mod:`.bands`) keeps such a drawing as ready raster rows; a method that
    draws without this mark makes the cache fall back to a full render."""

    @functools.wraps(method)
    def drawn(self: _Page, *args: Any, **kwargs: Any) -> None:
        self.run(method, args, kwargs)

    return drawn


class _Page:
    """A tall white strip that lines are stacked on, then cropped."""

    def __init__(self, renderer: ArabicRenderer, width: int, height: int = 6000) -> None:
        self.r = renderer
        self.width = width
        self.margin = max(8, width // 24)
        self.image = Image.new("L", (width, height), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin

    def run(
        self, method: Callable[..., None], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Draw one :func:`band` method (the band cache replaces this)."""
        method(self, *args, **kwargs)

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    @band
    def text(
        self, text: str, size: int, *, bold: bool = False, center: bool = True, fill: int = 0
    ) -> None:
        x = self.width / 2 if center else self.width - self.margin
        for line in self.r.wrap(text, size, self.inner, bold):
            align: Align = "center" if center else "right"
            _, h = self.r.draw(self.image, (x, self.y), line, size, bold, fill, align)
            self.y += h

    @band
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
        """One line: ``right`` against the right margin, ``left`` against the
        left one (two drawings: the date stays ready all day)."""
        top = self.y
        self.right_column(right, size)
        below, self.y = self.y, top
        self.left_column(left, size)
        self.y = below

    @beside
    def left_column(self, text: str, size: int) -> None:
        self.r.draw(self.image, (self.margin, self.y), text, size, align="left")

    @band
    def right_column(self, text: str, size: int) -> None:
        _, h = self.r.draw(self.image, (self.width - self.margin, self.y), text, size)
        self.y += h

    def box(self, top: int, bottom: int) -> None:
        self.draw.rectangle((self.margin, top, self.width - self.margin, bottom), fill=0)

    @band
    def rule(self, thick: int = 3) -> None:
        self.y += thick * 2
        self.box(self.y, self.y + thick - 1)
        self.y += thick * 3

    def gap(self, pixels: int) -> None:
        self.y += pixels

    @band
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

    @band
    def big_number(self, number: str, size: int | None = None) -> None:
        """The number as large as the paper allows."""
        size = size or self.number_size(number)
        # The line box includes room for Arabic marks above and below that a
        # number does not use: draw it, then trim the empty rows.
        strip = self.r.render_line(number, size, bold=True)
        box = ImageChops.invert(strip).getbbox()
        if box is not None:
            strip = strip.crop((0, box[1], strip.width, box[3]))
        self.gap(self.margin // 2)
        self.image.paste(strip, ((self.width - strip.width) // 2, self.y))
        self.y += strip.height + self.margin

    @band
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
    page = _Page(renderer or default_renderer(), width)
    lay_out(page, cfg, face, options or TicketOptions())
    return page.finish()


def lay_out(page: _Page, cfg: Config, face: TicketFace, options: TicketOptions) -> None:
    """Stack the ticket's lines on ``page`` (a full render or the band cache)."""
    if options.layout == "compact":
        lay_out_compact(page, cfg, face, options)
        return
    width = page.width
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

    on_paper = options.documents_on_paper(service.id)
    if on_paper and service.documents_ar:
        page.rule()
        page.text("المستندات المطلوبة", body, bold=True, center=False)
        page.bullets(list(service.documents_ar), small)
    if on_paper and service.fees:
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
        page.paste_center(qr_image(face.reference, width // 3))
        page.text(options.qr_caption_ar, small)


def lay_out_compact(page: _Page, cfg: Config, face: TicketFace, options: TicketOptions) -> None:
    """The compact ticket (``layout = "compact"``): at most 90 mm of 80 mm
    paper, with what a citizen needs in hand; the documents, fees, complaints
    portal and confidentiality line stay on the hall screen's panel."""
    width = page.width
    body = max(24, min(28, width // 16))
    small = 20
    branch, service = cfg.branch, face.service

    page.text(branch.name_ar, small, bold=True)
    page.text(service.name_ar, body, bold=True)
    forms = ticket_label(face.number).forms(branch.ticket_label)
    # A third of the width tall; both forms (if shown) at three fifths of it.
    size = min(page.number_size(form, 2) for form in forms)
    if len(forms) > 1:
        size = size * 3 // 5
    for form in forms:
        page.big_number(form, size)
    if face.priority:
        windows = [str(c.number) for c in cfg.counters if c.priority]
        page.banner([f"أولوية: شباك {' أو '.join(windows)}" if windows else "أولوية"], small)
        page.gap(small // 3)

    local = face.issued_at.astimezone(ZoneInfo(branch.timezone))
    page.two_columns(f"التاريخ {local:%d/%m/%Y}", f"الساعة {_clock(local)}", small)
    queue = []
    if face.people_ahead is not None:
        queue.append(_people(face.people_ahead))
    if face.wait_minutes is not None:
        queue.append(f"الانتظار حوالي {_minutes(max(1, round(face.wait_minutes)))}")
    if queue:
        page.text("، ".join(queue), small, bold=True)

    page.rule(2)
    page.text(f"الشكاوى {branch.hotline}  -  الطوارئ {branch.emergency}", small)
    if options.qr and face.reference:
        page.gap(small // 3)
        page.paste_center(qr_image(face.reference, max(144, width // 4)))  # modules of 4 dots
