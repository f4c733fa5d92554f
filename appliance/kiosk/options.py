"""What a kiosk prints besides the ticket itself (a configuration section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config.schema import setting


@dataclass(frozen=True)
class TicketOptions:
    """Optional parts of the printed ticket."""

    english: bool = setting("Print the service's English name under the Arabic one.", default=True)
    documents: bool = setting(
        "Print the service's required documents and fees (the charter asks that citizens "
        "know them; turn off only where the hall display shows them).",
        default=True,
    )
    hall_only: list[str] = setting(
        "Services (ids) whose documents and fees are left off the ticket and shown only "
        "on the hall screen's panel (long lists make a long ticket).",
        default_factory=list,
    )
    layout: Literal["full", "compact"] = setting(
        "'compact': at most 90 mm of 80 mm paper (number, service, time, queue, hotline "
        "and a small QR code; documents, fees and the charter's other lines are left to "
        "the hall screen).  'full': everything the charter lists.",
        default="full",
    )
    qr: bool = setting(
        "Print a QR code with the ticket reference, for feedback and complaint follow-up.",
        default=True,
    )
    qr_caption_ar: str = setting(
        "Caption under the QR code.", default="امسح الرمز للتقييم أو متابعة الشكوى"
    )
    complaint_channel_ar: str = setting(
        "Where citizens complain besides the hotline (the government complaints system).",
        default="منظومة الشكاوى الحكومية الموحدة: www.shakwa.eg",
    )
    confidentiality_ar: str = setting(
        "The one line on the confidentiality of citizens' data.",
        default="بياناتك سرية ولا يُفصح عنها لأي شخص غير ذي صفة",
    )

    def documents_on_paper(self, service: str) -> bool:
        """Whether the documents and fees of ``service`` are printed."""
        return self.documents and self.layout == "full" and service not in self.hall_only
