# MAX7219 LED driver on SPI, no-decode mode (segments drawn by segfont).
#
# The chip takes 16-bit words, register address then value, latched on the
# rising edge of LOAD/CS.  Register 1 drives DIG0; on the common 8-digit
# modules DIG0 is the RIGHTMOST digit, hence ``rightmost_first``.

REG_NOOP = 0x00
REG_DIGIT0 = 0x01
REG_DECODE = 0x09
REG_INTENSITY = 0x0A
REG_SCAN_LIMIT = 0x0B
REG_SHUTDOWN = 0x0C
REG_TEST = 0x0F


class Max7219:
    def __init__(self, spi, cs, digits: int = 8, rightmost_first: bool = True) -> None:
        if not 1 <= digits <= 8:
            raise ValueError("a MAX7219 drives 1 to 8 digits")
        self.spi = spi
        self.cs = cs
        self.digits = digits
        self.rightmost_first = rightmost_first
        self.cs.value(1)

    def write(self, reg: int, value: int) -> None:
        self.cs.value(0)
        self.spi.write(bytes([reg, value & 0xFF]))
        self.cs.value(1)

    def init(self, intensity: int = 8) -> None:
        self.write(REG_TEST, 0)
        self.write(REG_DECODE, 0)
        self.write(REG_SCAN_LIMIT, self.digits - 1)
        self.write(REG_INTENSITY, intensity)
        self.show([0] * self.digits)
        self.write(REG_SHUTDOWN, 1)

    def show(self, cells: list) -> None:
        """``cells``: segment bytes, leftmost digit first."""
        for i in range(self.digits):
            pos = self.digits - 1 - i if self.rightmost_first else i
            self.write(REG_DIGIT0 + pos, cells[i])

    def intensity(self, level: int) -> None:
        self.write(REG_INTENSITY, max(0, min(15, level)))

    def on(self, lit: bool) -> None:
        # Shutdown mode blanks the digits but keeps their registers: a cheap
        # blink that never redraws.
        self.write(REG_SHUTDOWN, 1 if lit else 0)
