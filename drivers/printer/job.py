"""Print jobs as bytes: profiles, the ticket job, and reading a job back.

A ticket is one raster image (``GS v 0``) followed by a cut, built with
python-escpos so that printer quirks stay in its profiles.  :func:`decode_raster`
reads the image back out of the bytes: the simulated printer uses it to save
what it "printed" and the tests use it to prove the bytes carry the ticket.
"""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image, ImageChops

from ...errors import ConfigError

GS_V0 = b"\x1dv0"
ESC_INIT = b"\x1b@"
# Named paper widths for `nidaa ticket preview --width`.
PROFILE_FOR_WIDTH_MM = {58: "POS-5890", 80: "TM-T20II"}


def _capabilities() -> Any:
    # python-escpos pickles its printer database into a fresh temporary
    # directory on every import unless told where; one shared place will do.
    os.environ.setdefault(
        "ESCPOS_CAPABILITIES_PICKLE_DIR", os.path.join(tempfile.gettempdir(), "nidaa-escpos")
    )
    os.makedirs(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"], exist_ok=True)
    from escpos import capabilities

    return capabilities


@cache
def load_profile(name: str) -> Any:
    """The python-escpos profile ``name``; :class:`ConfigError` if unknown."""
    caps = _capabilities()
    if name not in caps.CAPABILITIES["profiles"]:
        near = ", ".join(sorted(caps.CAPABILITIES["profiles"]))
        raise ConfigError([("printer.profile", f"unknown printer profile {name!r}; known: {near}")])
    return caps.get_profile(name)


def paper_width_px(profile: str) -> int:
    """Printable dots across the paper, from the profile (384 for 58 mm)."""
    pixels = load_profile(profile).profile_data.get("media", {}).get("width", {}).get("pixels")
    if not isinstance(pixels, int):
        raise ConfigError(
            [
                (
                    "printer.profile",
                    f"profile {profile!r} does not give the paper width; "
                    "choose a model's profile, e.g. POS-5890 (58 mm) or TM-T20II (80 mm)",
                )
            ]
        )
    return pixels


def paper_length_mm(profile: str, dots: int) -> float:
    """How long ``dots`` rows of print are on paper (the profile's dpi;
    203, the thermal printers' usual 8 dots per mm, when it does not say)."""
    dpi = load_profile(profile).profile_data.get("media", {}).get("dpi")
    return dots * 25.4 / (dpi if isinstance(dpi, int | float) and dpi > 0 else 203)


def ticket_job(image: Image.Image, profile: str, cut: bool = True) -> bytes:
    """The exact bytes that print ``image`` on a printer of ``profile``."""
    from escpos.printer import Dummy

    width = paper_width_px(profile)
    if image.width > width:
        raise ValueError(f"image is {image.width} dots wide, the paper only {width}")
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    # Thresholded to pure black and white here, so python-escpos's own
    # conversion has nothing left to dither.
    mono = image.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")
    if mono.width < width:
        # Centred here: python-escpos forgets `center` for images it splits.
        page = Image.new("1", (width, mono.height), 1)
        page.paste(mono, ((width - mono.width) // 2, 0))
        mono = page
    printer.image(mono, impl="bitImageRaster")
    if cut:
        printer.cut()
    return bytes(printer.output)


#: Rows per ``GS v 0`` command: python-escpos splits taller images there.
FRAGMENT_ROWS = 960


def ink_rows(image: Image.Image) -> bytes:
    """The raster rows of a black-and-white ``image`` as a printer takes them:
    one bit per dot, a set bit black, each row padded to whole bytes.  Dark
    (below 128) is a dot: inverted, that is 128 and up, which is where
    converting to "1" without dithering sets a bit."""
    inverted = ImageChops.invert(image.convert("L"))
    return inverted.convert("1", dither=Image.Dither.NONE).tobytes()


@cache
def _job_ends(profile: str, cut: bool) -> tuple[bytes, bytes]:
    """What python-escpos sends before and after the image for ``profile``
    (printer quirks stay in its profiles)."""
    from escpos.printer import Dummy

    head = Dummy(profile=profile)
    head.hw("INIT")
    tail = Dummy(profile=profile)
    if cut:
        tail.cut()
    return bytes(head.output), bytes(tail.output)


def raster_job(rows: bytes, width: int, profile: str, cut: bool = True) -> bytes:
    """The job that prints raster ``rows`` (:func:`ink_rows`, ``width`` dots
    across) on ``profile``: the same bytes :func:`ticket_job` builds from the
    image, without going through an image again."""
    if width != paper_width_px(profile):
        raise ValueError(f"rows are {width} dots wide, the paper {paper_width_px(profile)}")
    row_bytes = (width + 7) // 8
    height, extra = divmod(len(rows), row_bytes)
    if extra:
        raise ValueError(f"{len(rows)} bytes are not whole rows of {row_bytes} bytes")
    head, tail = _job_ends(profile, cut)
    parts = [head]
    for top in range(0, height, FRAGMENT_ROWS):
        n = min(FRAGMENT_ROWS, height - top)
        parts.append(GS_V0 + b"\x00" + struct.pack("<HH", row_bytes, n))
        parts.append(rows[top * row_bytes : (top + n) * row_bytes])
    parts.append(tail)
    return b"".join(parts)


@dataclass(frozen=True)
class RasterBlock:
    offset: int  #: where the GS v 0 command starts in the job
    width_bytes: int
    height: int
    data: bytes


def raster_blocks(job: bytes) -> list[RasterBlock]:
    """Every ``GS v 0`` image in ``job``, in order."""
    blocks: list[RasterBlock] = []
    i = job.find(GS_V0)
    while i >= 0:
        header = job[i + 4 : i + 8]
        if len(header) < 4:
            raise ValueError(f"truncated GS v 0 header at byte {i}")
        width_bytes = header[0] | header[1] << 8
        height = header[2] | header[3] << 8
        size = width_bytes * height
        data = job[i + 8 : i + 8 + size]
        if len(data) < size:
            raise ValueError(f"GS v 0 image at byte {i} is cut short")
        blocks.append(RasterBlock(i, width_bytes, height, data))
        i = job.find(GS_V0, i + 8 + size)
    return blocks


def decode_raster(job: bytes) -> Image.Image:
    """The image a printer would print from ``job`` (black ink on white),
    stacking the fragments python-escpos splits tall images into."""
    blocks = raster_blocks(job)
    if not blocks:
        raise ValueError("no raster image (GS v 0) in the print job")
    width = max(b.width_bytes for b in blocks) * 8
    image = Image.new("1", (width, sum(b.height for b in blocks)), 1)
    y = 0
    for block in blocks:
        # In ESC/POS a set bit is a black dot; in Pillow's mode "1" it is white.
        part = Image.frombytes("1", (block.width_bytes * 8, block.height), block.data)
        image.paste(part.point(lambda v: 0 if v else 255), (0, y))
        y += block.height
    return image
