# Wires the protocol node, the panel and the MAX7219 to a board's UART, SPI
# and pins.  ``machine`` is passed in: the real module on the board, the
# stand-ins of sim.py under CPython, so the tests run this very code.

from max7219 import Max7219
from node import Node
from panel import Panel


class DisplayBoard:
    def __init__(self, uart, node, panel) -> None:
        self.uart = uart
        self.node = node
        self.panel = panel

    def step(self, now: int) -> None:
        """One pass of the main loop: take what the UART holds, then blink."""
        waiting = self.uart.any()
        if waiting:
            chunk = self.uart.read(waiting)
            if chunk:
                self.node.feed(chunk)
        self.panel.tick(now)


def build(machine, cfg, ticks_ms=None, ticks_diff=None):
    Pin = machine.Pin
    spi = machine.SPI(
        cfg.SPI_ID,
        baudrate=cfg.SPI_BAUD,
        polarity=0,
        phase=0,
        sck=Pin(cfg.PIN_SCK),
        mosi=Pin(cfg.PIN_MOSI),
    )
    cs = Pin(cfg.PIN_CS, Pin.OUT, value=1)
    chip = Max7219(spi, cs, cfg.DIGITS, cfg.RIGHTMOST_FIRST)
    panel = Panel(chip, cfg.INTENSITY, ticks_diff)
    uart = machine.UART(
        cfg.UART_ID, baudrate=cfg.BAUD, tx=Pin(cfg.PIN_TX), rx=Pin(cfg.PIN_RX), rxbuf=256
    )
    de = Pin(cfg.PIN_DE, Pin.OUT, value=0)

    def send(data: bytes) -> None:
        # Drive the pair only while the reply goes out, then listen again.
        de.value(1)
        uart.write(data)
        uart.flush()
        de.value(0)

    node = Node(cfg.ADDRESS, panel, send, ticks_ms)
    panel.show(cfg.BOOT_TEXT)
    return DisplayBoard(uart, node, panel)
