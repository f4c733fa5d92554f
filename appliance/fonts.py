"""The fonts Nidaa draws with: found on the system by file name, loaded once.

Debian's ``fonts-noto-core`` has the Arabic (Naskh, Sans, Kufi) and the
Latin Noto fonts; DejaVu and Liberation are the fallbacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from .errors import HardwareError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Preferred first.  Naskh is the book hand Egyptians read on official papers.
ARABIC_FONTS = (
    "NotoNaskhArabic-Regular.ttf",
    "NotoSansArabic-Regular.ttf",
    "NotoKufiArabic-Regular.ttf",
    "DejaVuSans.ttf",
)
LATIN_FONTS = ("NotoSans-Regular.ttf", "DejaVuSans.ttf", "LiberationSans-Regular.ttf")
FONT_PACKAGE = "fonts-noto-core"


class FontNotFoundError(HardwareError, FileNotFoundError):
    """No usable font on this system; the message names the package."""


def raqm_available() -> bool:
    return bool(features.check("raqm"))


def find_font(names: Sequence[str], dirs: Iterable[Path] = FONT_DIRS) -> Path | None:
    """The first of ``names`` found under ``dirs`` (searched recursively)."""
    found: dict[str, Path] = {}
    wanted = set(names)
    for root in dirs:
        if not root.is_dir():
            continue
        for path in root.rglob("*.[ot]tf"):
            if path.name in wanted and path.name not in found:
                found[path.name] = path
    for name in names:
        if name in found:
            return found[name]
    return None


def bold_sibling(path: Path) -> Path:
    for regular, bold in (("-Regular.", "-Bold."), ("Sans.", "Sans-Bold.")):
        if regular in path.name:
            candidate = path.with_name(path.name.replace(regular, bold))
            if candidate.exists():
                return candidate
    return path


@lru_cache(maxsize=4096)
def font_covers(path: str, ch: str) -> bool:
    """Whether the font at ``path`` has a glyph for ``ch``: Pillow does not
    expose the character map, so compare its drawing with a character no
    font has (which draws the "missing glyph" box)."""
    font = ImageFont.truetype(path, 24, layout_engine=ImageFont.Layout.BASIC)

    def drawing(c: str) -> bytes:
        image = Image.new("L", (64, 48))
        ImageDraw.Draw(image).text((8, 4), c, font=font, fill=255)
        return image.tobytes()

    return drawing(ch) != drawing("\U0010fffd")


@lru_cache(maxsize=64)
def load_font(path: str, size: int, layout: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=layout)
