# Settings of one display board: edit before copying to the board.
#
# ADDRESS must be unique on the RS-485 pair and match `address` in the
# counter's [counter_units.display] section.

ADDRESS = 1
DIGITS = 8  # 4 to 8 seven-segment digits on the MAX7219
RIGHTMOST_FIRST = True  # DIG0 is the rightmost digit on the common modules
INTENSITY = 8  # 0..15 until the host sets it
BOOT_TEXT = "----"  # shown until the counter unit says something

# RS-485 link (UART0 through a MAX485-type transceiver)
UART_ID = 0
BAUD = 19200
PIN_TX = 0  # GP0 -> transceiver DI
PIN_RX = 1  # GP1 <- transceiver RO
PIN_DE = 2  # GP2 -> transceiver DE and /RE tied together (high: transmit)

# MAX7219 (SPI0)
SPI_ID = 0
SPI_BAUD = 1000000
PIN_SCK = 18  # GP18 -> MAX7219 CLK
PIN_MOSI = 19  # GP19 -> MAX7219 DIN
PIN_CS = 17  # GP17 -> MAX7219 LOAD/CS
