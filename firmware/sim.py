# CPython stand-ins for MicroPython's ``machine`` module on the display board.
#
# ``Bench`` plays the board: its ``machine`` attribute offers Pin, SPI and
# UART classes wired to a simulated MAX7219 (which decodes the SPI words the
# real driver sends into its registers) and to a UART whose ``rx`` and ``tx``
# byte buffers the caller fills and empties (the host's simulated display
# moves them to and from a pty).
# Only the test-suite and the host's simulated display use this file; it is
# never copied to the board.

import segfont


class Max7219Chip:
    """Registers of a MAX7219 as the SPI words left them."""

    def __init__(self) -> None:
        self.registers = {}
        self.shift = bytearray()
        self.words = 0
        self.changed = None  # optional callback(chip) after each latched word

    def clock_in(self, data: bytes) -> None:
        self.shift.extend(data)

    def latch(self) -> None:
        # LOAD rising edge: the last 16 bits shifted in are the word.
        if len(self.shift) >= 2:
            reg, value = self.shift[-2], self.shift[-1]
            self.registers[reg & 0x0F] = value
            self.words += 1
        self.shift = bytearray()
        if self.changed is not None:
            self.changed(self)

    @property
    def lit(self) -> bool:
        return self.registers.get(0x0C, 0) == 1 and self.registers.get(0x0F, 0) == 0

    @property
    def intensity(self) -> int:
        return self.registers.get(0x0A, 0)

    def cells(self, digits: int, rightmost_first: bool = True) -> list:
        regs = [self.registers.get(1 + i, 0) for i in range(digits)]
        return list(reversed(regs)) if rightmost_first else regs

    def text(self, digits: int = 8, rightmost_first: bool = True) -> str:
        """What the digits show, read back through the font, leading blanks
        stripped ("A123", "----", "OFF"); the blink phase is ignored."""
        return "".join(segfont.read_back(c) for c in self.cells(digits, rightmost_first)).lstrip()


class Bench:
    """One simulated display board."""

    def __init__(self, cs_pin: int = 17) -> None:
        self.chip = Max7219Chip()
        self.cs_pin = cs_pin  # the pin wired to the MAX7219's LOAD input
        self.pins = {}
        self.machine = _machine_for(self)


def _machine_for(bench):
    class Pin:
        OUT = 1
        IN = 0

        def __init__(self, pin_id, mode=None, value=None, **kwargs) -> None:
            self.id = pin_id
            self.level = 0
            # LOAD latches the shifted word on its rising edge.
            self.rising = bench.chip.latch if pin_id == bench.cs_pin else None
            bench.pins[pin_id] = self
            if value is not None:
                self.value(value)

        def value(self, v=None):
            if v is None:
                return self.level
            was = self.level
            self.level = 1 if v else 0
            if self.rising is not None and not was and self.level:
                self.rising()
            return None

    class SPI:
        def __init__(
            self, spi_id, baudrate=1000000, polarity=0, phase=0, sck=None, mosi=None, **kwargs
        ) -> None:
            self.id = spi_id

        def write(self, data: bytes) -> None:
            bench.chip.clock_in(data)

    class UART:
        def __init__(self, uart_id, baudrate=9600, tx=None, rx=None, **kwargs) -> None:
            self.id = uart_id
            self.baudrate = baudrate
            self.rx = bytearray()
            self.tx = bytearray()

        def any(self) -> int:
            return len(self.rx)

        def read(self, n=-1):
            if not self.rx:
                return None
            n = len(self.rx) if n is None or n < 0 else n
            out, self.rx = bytes(self.rx[:n]), self.rx[n:]
            return out

        def write(self, data: bytes) -> int:
            self.tx.extend(data)
            return len(data)

        def flush(self) -> None:
            pass

    class Machine:
        pass

    m = Machine()
    m.Pin = Pin
    m.SPI = SPI
    m.UART = UART
    return m
