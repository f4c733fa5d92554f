# Nidaa display protocol (NDP/1): framing, escaping and the CRC-8.
#
# Runs under MicroPython on the display board and under CPython in the
# test-suite, so it sticks to the common subset: no f-strings, no typing
# imports, no bytes.hex(); annotations are plain names that MicroPython's
# compiler discards.  The byte-level description is docs/counter-display.md.
#
# A frame on the wire:
#     STX  escaped(ADDR SEQ CMD DATA... CRC)  ETX
# STX, ETX and DLE never appear inside a frame: each is sent as DLE followed
# by the byte XOR 0x20.  CRC is CRC-8 (polynomial 0x07, initial value 0) over
# ADDR SEQ CMD DATA before escaping.

STX = 0x02
ETX = 0x03
DLE = 0x10
ACK = 0x06
NAK = 0x15

BROADCAST = 0xFF  # every display applies it, none answers
MAX_DATA = 32
MAX_BODY = MAX_DATA + 4  # addr, seq, cmd, data, crc

# Commands (one ASCII letter each).
CMD_NUMBER = ord("N")  # show a ticket number, e.g. "A123"
CMD_TEXT = ord("T")  # show a status text, e.g. "----" or "OFF"
CMD_BLINK = ord("K")  # blink the current text N times ("0": until the next command)
CMD_CLEAR = ord("C")  # blank every digit
CMD_BRIGHT = ord("L")  # brightness, one hex digit "0".."F"
CMD_PING = ord("P")  # answered by an ACK carrying the board's identity

# NAK reasons (one ASCII letter in the NAK's data).
NAK_CHECKSUM = ord("C")
NAK_COMMAND = ord("U")
NAK_DATA = ord("D")

# What the parser reports for a complete frame.
FRAME_OK = 0
FRAME_BAD_CRC = 1


def crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def escape(body: bytes) -> bytearray:
    out = bytearray()
    for byte in body:
        if byte in (STX, ETX, DLE):
            out.append(DLE)
            out.append(byte ^ 0x20)
        else:
            out.append(byte)
    return out


def encode(addr: int, seq: int, cmd: int, data: bytes = b"") -> bytes:
    """One complete frame, ready for the wire."""
    if len(data) > MAX_DATA:
        raise ValueError("frame data longer than %d bytes" % MAX_DATA)
    body = bytes([addr & 0xFF, seq & 0xFF, cmd & 0xFF]) + bytes(data)
    frame = bytearray([STX])
    frame.extend(escape(body + bytes([crc8(body)])))
    frame.append(ETX)
    return bytes(frame)


class Frame:
    """A frame that arrived whole; ``status`` says whether its CRC held."""

    def __init__(self, status: int, addr: int, seq: int, cmd: int, data: bytes) -> None:
        self.status = status
        self.addr = addr
        self.seq = seq
        self.cmd = cmd
        self.data = data

    def __repr__(self) -> str:
        return "Frame(%d, addr=%d, seq=%d, cmd=%d, data=%r)" % (
            self.status,
            self.addr,
            self.seq,
            self.cmd,
            self.data,
        )


class Parser:
    """Byte-at-a-time frame parser: feed it whatever the UART delivers.

    Noise between frames is skipped; an STX inside a frame starts a new one
    (the interrupted frame is dropped, the sender will retry); a frame longer
    than MAX_BODY or shorter than four bytes is dropped.  ``dropped`` counts
    what was thrown away, for the board's diagnostics.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.inside = False
        self.escaped = False
        self.dropped = 0

    def reset(self) -> None:
        self.buf = bytearray()
        self.inside = False
        self.escaped = False

    def feed(self, chunk: bytes) -> list:
        frames = []
        for byte in chunk:
            frame = self.feed_byte(byte)
            if frame is not None:
                frames.append(frame)
        return frames

    def feed_byte(self, byte: int):  # -> Frame | None
        if byte == STX:
            if self.inside:
                self.dropped += 1
            self.reset()
            self.inside = True
            return None
        if not self.inside:
            return None  # noise between frames
        if byte == ETX:
            body = self.buf
            bad_escape = self.escaped
            self.reset()
            if len(body) < 4 or bad_escape:
                self.dropped += 1
                return None
            status = FRAME_OK if crc8(body[:-1]) == body[-1] else FRAME_BAD_CRC
            return Frame(status, body[0], body[1], body[2], bytes(body[3:-1]))
        if self.escaped:
            self.escaped = False
            byte ^= 0x20
        elif byte == DLE:
            self.escaped = True
            return None
        if len(self.buf) >= MAX_BODY:
            self.dropped += 1
            self.reset()  # too long: wait for the next STX
            return None
        self.buf.append(byte)
        return None
