"""Ready raster bands: each press renders only what changed on the ticket.

A ticket is a stack of drawings (:func:`.ticket.band` methods of the page),
each filling its own rows: the branch name, a rule, the service name, the
number, the documents, the complaint channels, the QR code.  Most of them
are the same on every ticket of a service, so :class:`TicketBands` keeps
each drawing's rows as printer-ready bytes, keyed by what was drawn (method
and arguments): a press lays the ticket out as usual, takes the rows it
already has and draws only the rest (number, time, people ahead, wait, QR),
then joins the rows into the job.  Nothing here knows which parts are
static: whatever the ticket says, a drawing seen before is not drawn again.

At start the drawings of every service's ticket (plain and priority) are
made and the ones shared by two tickets with different numbers, times and
waits are kept for good; other drawings go to a small bounded cache.  A
different configuration (the branch file changed) gets a new cache.

The bytes are those of a full render (:func:`.ticket.render_ticket` then
:func:`~appliance.drivers.printer.ticket_job`): rows do not depend on where
they land, and where a drawing's ink leaves its rows (which a full render
would let overlap its neighbour) the ticket is rendered whole, unless the
ink only reaches into a white gap below it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, NoReturn

from PIL import Image, ImageChops

from ..arabic import ArabicRenderer, default_renderer
from ..config.branch import Config
from ..drivers.printer import ink_rows, paper_width_px, raster_job
from .options import TicketOptions
from .ticket import TicketFace, _Page, lay_out, render_ticket, sample_face

log = logging.getLogger(__name__)

#: White rows above and below a drawing on its own canvas: ink there would
#: have spilt onto a neighbour in a full render.
SPILL_ROWS = 48
#: Drawings kept besides the pinned ones (recent numbers, times of day).
RECENT = 128
#: People ahead (0 up to this) and minutes of wait (1 up to this) whose lines
#: are drawn at start and kept: nearly every ticket of a day says one of them.
QUEUE_LINES = 100
#: The smallest canvas a drawing starts on (rows, besides the spill rows).
MIN_CANVAS = 64

Key = tuple[Hashable, ...]


class _Uncacheable(Exception):
    """This ticket must be rendered whole."""


@dataclass(frozen=True)
class _Drawing:
    rows: bytes  #: from the drawing's first row to its last row of ink
    advance: int  #: rows the page moves down (the ink may go further, into a gap)
    #: Columns from the first to past the last pixel it touched at all (grey
    #: included), or None when it touched none.
    columns: tuple[int, int] | None = None


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Image.Image):
        return ("image", value.mode, value.size, value.tobytes())
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    hash(value)
    return value  # type: ignore[no-any-return]


class _BandPage(_Page):
    """A page that collects raster rows instead of drawing on one image."""

    def __init__(self, cache: TicketBands) -> None:
        # No image of its own: every drawing goes through run().
        self.r = cache.renderer
        self.width = cache.width
        self.margin = max(8, self.width // 24)
        self.y = self.margin
        self.cache = cache
        self.row_bytes = (self.width + 7) // 8
        self.parts: list[bytes] = []
        self.keys: list[Key] = []
        self._filled = 0  # rows already in parts
        #: Rows from, rows to, columns of each drawing laid; drawings beside.
        self._spans: list[tuple[int, int, tuple[int, int] | None]] = []
        self._beside: list[tuple[int, _Drawing]] = []

    # A drawing outside a band method: this ticket cannot be joined from bands.
    @property
    def image(self) -> NoReturn:  # type: ignore[override]
        raise _Uncacheable("a drawing outside a band method")

    @property
    def draw(self) -> NoReturn:  # type: ignore[override]
        raise _Uncacheable("a drawing outside a band method")

    def run(
        self, method: Callable[..., None], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        key: Key = (method.__name__, _freeze(args), _freeze(kwargs))
        drawing = self.cache.rows_for(key, lambda page: method(page, *args, **kwargs))
        self.keys.append(key)
        if getattr(method, "beside", False):
            self._beside.append((self.y, drawing))
            return
        if self.y < self._filled:
            raise _Uncacheable(f"{key[0]} starts on ink the drawing above left below it")
        if self.y > self._filled:  # gaps: white rows
            self.parts.append(bytes((self.y - self._filled) * self.row_bytes))
        self.parts.append(drawing.rows)
        self._filled = self.y + len(drawing.rows) // self.row_bytes
        self._spans.append((self.y, self._filled, drawing.columns))
        self.y += drawing.advance

    def rows(self) -> bytes:
        end = self.y + self.margin
        if end < self._filled:
            raise _Uncacheable("ink below the end of the ticket")
        rows = b"".join(self.parts) + bytes((end - self._filled) * self.row_bytes)
        return self._lay_beside(rows, end) if self._beside else rows

    def _lay_beside(self, rows: bytes, end: int) -> bytes:
        """Lay each drawing beside onto the rows: as a full render draws it
        when the two never touch the same pixel (checked by columns)."""
        out = bytearray(rows)
        spans = list(self._spans)
        for y, drawing in self._beside:
            bottom = y + len(drawing.rows) // self.row_bytes
            if bottom > end:
                raise _Uncacheable("a drawing beside goes below the end of the ticket")
            for top, low, columns in spans:
                if top < bottom and y < low and _touch(columns, drawing.columns):
                    raise _Uncacheable("a drawing beside touches its neighbour")
            spans.append((y, bottom, drawing.columns))
            start, stop = y * self.row_bytes, bottom * self.row_bytes
            merged = int.from_bytes(out[start:stop]) | int.from_bytes(drawing.rows)
            out[start:stop] = merged.to_bytes(stop - start)
        return bytes(out)


class TicketBands:
    """The tickets of one configuration at one printer profile, as bytes.

    Thread-safe; :meth:`job` is what the kiosk sends for each press."""

    def __init__(
        self,
        config: Config,
        profile: str,
        options: TicketOptions | None = None,
        renderer: ArabicRenderer | None = None,
        *,
        warm: bool = True,
    ) -> None:
        self.config = config
        self.profile = profile
        self.width = paper_width_px(profile)
        self.options = options or TicketOptions()
        self.renderer = renderer or default_renderer()
        self._pinned: dict[Key, _Drawing] = {}
        self._recent: OrderedDict[Key, _Drawing] = OrderedDict()
        self._spills: set[Key] = set()
        #: Canvas rows that sufficed for each kind of drawing (method, size).
        self._heights: dict[tuple[Hashable, Hashable], int] = {}
        self._lock = threading.Lock()
        self.full_renders = 0  #: tickets that had to be rendered whole
        self.drawn = 0  #: drawings made (the rest came ready)
        if warm:
            self.warm()

    def warm(self) -> None:
        """Draw every service's ticket, plain and priority, twice with all that
        varies varied, and keep the drawings both have for good."""
        for service in self.config.services:
            for priority in (False, True):
                first = sample_face(self.config, service.id, priority=priority)
                second = _varied(first)
                try:
                    a, b = self._lay_out(first).keys, self._lay_out(second).keys
                except _Uncacheable:
                    continue
                self._pin(set(a) & set(b))
        self._warm_queue_lines()

    def _warm_queue_lines(self) -> None:
        """Draw and keep the people-ahead and wait lines of :data:`QUEUE_LINES`
        tickets: the same ticket with only those varied, its other drawings
        ready, leaves exactly those lines new."""
        if not self.config.services:
            return
        # Without a reference: no QR code to make for each.
        face = replace(sample_face(self.config, self.config.services[0].id), reference="")
        try:
            known = set(self._lay_out(face).keys)
            for n in range(QUEUE_LINES + 1):
                varied = replace(face, people_ahead=n, wait_minutes=float(max(1, n)))
                self._pin(set(self._lay_out(varied).keys) - known)
        except _Uncacheable:
            return

    def _pin(self, keys: set[Key]) -> None:
        with self._lock:
            for key in keys:
                drawing = self._recent.pop(key, None)
                if drawing is not None:
                    self._pinned[key] = drawing

    def for_config(self, config: Config) -> TicketBands:
        """This cache if ``config`` is the one it was built for, else a new one."""
        if config is self.config or config == self.config:
            return self
        log.info("branch configuration changed: ticket bands rebuilt")
        return TicketBands(config, self.profile, self.options, self.renderer)

    @property
    def pinned_bytes(self) -> int:
        return sum(len(drawing.rows) for drawing in self._pinned.values())

    def rows(self, face: TicketFace) -> bytes:
        """The ticket's raster rows (:func:`~appliance.drivers.printer.ink_rows`)."""
        try:
            return self._lay_out(face).rows()
        except _Uncacheable as why:
            log.debug("ticket %s rendered whole: %s", face.number, why)
            self.full_renders += 1
            image = render_ticket(self.config, face, self.width, self.options, self.renderer)
            return ink_rows(image)

    def job(self, face: TicketFace, cut: bool = True) -> bytes:
        """The exact bytes a full render of ``face`` would send to the printer."""
        return raster_job(self.rows(face), self.width, self.profile, cut)

    def image(self, face: TicketFace) -> Image.Image:
        """The ticket as an image (black ink on white) from its rows."""
        rows = self.rows(face)
        height = len(rows) // ((self.width + 7) // 8)
        ink = Image.frombytes("1", (self.width, height), rows)
        return ink.point(lambda v: 0 if v else 255).convert("1")

    def drawings(self, face: TicketFace) -> int:
        """How many band drawings ``face``'s ticket is joined from."""
        return len(self._lay_out(face).keys)

    def _lay_out(self, face: TicketFace) -> _BandPage:
        page = _BandPage(self)
        lay_out(page, self.config, face, self.options)
        return page

    def rows_for(self, key: Key, draw: Callable[[_Page], None]) -> _Drawing:
        """The drawing of ``key``, ready or drawn now by ``draw``."""
        with self._lock:
            if key in self._spills:
                raise _Uncacheable(f"{key[0]} draws above its rows")
            drawing = self._pinned.get(key)
            if drawing is None:
                drawing = self._recent.get(key)
                if drawing is not None:
                    self._recent.move_to_end(key)
        if drawing is not None:
            return drawing
        drawing = self._draw(key, draw)
        with self._lock:
            self._recent[key] = drawing
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return drawing

    def _draw(self, key: Key, draw: Callable[[_Page], None]) -> _Drawing:
        self.drawn += 1
        # A canvas about as tall as this kind of drawing was last time: most
        # are a line or two, and a small canvas is cheap to scan.  A drawing
        # that needs more (its advance, or ink near the canvas's foot) is
        # drawn again on one twice as tall.
        kind = (key[0], _size_of(key))
        tall = self._heights.get(kind, MIN_CANVAS)
        while True:
            canvas = _Page(self.renderer, self.width, height=tall + 2 * SPILL_ROWS)
            canvas.y = SPILL_ROWS
            draw(canvas)
            advance = canvas.y - SPILL_ROWS
            image = canvas.image
            # Every pixel touched at all (grey included), in one scan.
            box = ImageChops.invert(image).getbbox()
            if advance <= tall and (box is None or box[3] <= image.height - SPILL_ROWS):
                break
            tall *= 2
        self._heights[kind] = max(MIN_CANVAS, tall if advance > tall // 2 else tall // 2)
        if box is not None and box[1] < SPILL_ROWS:
            # A full render would have drawn this onto the drawing above it.
            with self._lock:
                self._spills.add(key)
            raise _Uncacheable(f"{key[0]} draws above its rows")
        # Ink below the advance (a box's last row) is kept with the drawing;
        # the page must then leave it a gap (checked when joining).
        bottom = max(canvas.y, box[3]) if box is not None else canvas.y
        inked = image.crop((0, SPILL_ROWS, self.width, bottom))
        columns = (box[0], box[2]) if box is not None else None
        return _Drawing(ink_rows(inked), advance, columns)


def _size_of(key: Key) -> Hashable:
    """The type size a drawing's arguments name (its second), if any."""
    args = key[1]
    return args[1] if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], int) else None


def _touch(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def _varied(face: TicketFace) -> TicketFace:
    """The same service's ticket with every per-press field different."""
    service = face.service
    ahead = (face.people_ahead or 0) + 7
    return replace(
        face,
        number=f"{service.prefix}{service.first + ahead + 1:03d}",
        issued_at=face.issued_at + timedelta(days=1, hours=5, minutes=17),
        people_ahead=ahead,
        wait_minutes=(face.wait_minutes or 0) + 23,
        reference=face.reference + ":2",
    )
