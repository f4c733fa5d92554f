# What the display shows: the text, its blinking and its brightness.
#
# Time comes in as milliseconds from the caller (time.ticks_ms on the board,
# a test clock under CPython) together with the matching difference
# function, because MicroPython's tick counter wraps around.

import segfont

BLINK_HALF_MS = 300  # on 300 ms, off 300 ms: readable from across a hall


def _plain_diff(a: int, b: int) -> int:
    return a - b


class Panel:
    def __init__(self, chip, intensity: int = 8, ticks_diff=None) -> None:
        self.chip = chip
        self.digits = chip.digits
        self.diff = ticks_diff or _plain_diff
        self.text = ""
        self.intensity = intensity
        self.blinks_left = 0  # half-periods still to go; -1: until the next command
        self.lit = True
        self.last_toggle = 0
        chip.init(intensity)

    def show(self, text: str) -> None:
        """Draw ``text`` steadily; ValueError if the font cannot draw it."""
        cells = segfont.render(text, self.digits)
        self.text = text
        self.blinks_left = 0
        self.chip.show(cells)
        self._light(True)

    def clear(self) -> None:
        self.show("")

    def brightness(self, level: int) -> None:
        self.intensity = level
        self.chip.intensity(level)

    def blink(self, count: int, now: int) -> None:
        """Blink the current text ``count`` times, 0 for until the next command."""
        self.blinks_left = -1 if count == 0 else 2 * count
        self.last_toggle = now
        self._light(False)
        if self.blinks_left > 0:
            self.blinks_left -= 1

    def tick(self, now: int) -> None:
        if self.blinks_left == 0 or self.diff(now, self.last_toggle) < BLINK_HALF_MS:
            return
        self.last_toggle = now
        self._light(not self.lit)
        if self.blinks_left > 0:
            self.blinks_left -= 1
            if self.blinks_left == 0:
                self._light(True)

    def _light(self, lit: bool) -> None:
        self.lit = lit
        self.chip.on(lit)
