"""What a kiosk prints besides the ticket itself (a configuration section)."""

from __future__ import annotations

from dataclasses import dataclass

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
