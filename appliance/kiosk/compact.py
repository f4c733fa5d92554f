"""The compact ticket: at most 90 mm of 80 mm paper.

What a citizen needs in hand: the centre, the service, the number (large),
the priority window, the date and time, people ahead and the wait, the
complaints hotline and a small QR code.  The documents and fees, the
government complaints portal and the confidentiality line stay on the hall
screen's panel (``show_documents``, ``show_charter``): a branch chooses this
layout to save paper and time at the printer (``[kiosks.ticket] layout``).
Drawn with the same band methods as the full ticket, so the kiosk's band
cache serves both.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ..config.branch import Config
from ..label import ticket_label
from .options import TicketOptions
from .qr import qr_image
from .ticket import TicketFace, _clock, _minutes, _Page, _people


def lay_out_compact(page: _Page, cfg: Config, face: TicketFace, options: TicketOptions) -> None:
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
