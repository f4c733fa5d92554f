# The display's end of the protocol: address filter, commands, ACK/NAK.
#
# ``write`` sends reply bytes on the bus (the board drives the RS-485
# transceiver's DE pin around it).  Replies go out only to frames addressed
# to this display: never to broadcasts, never to other displays' frames, so
# two displays on one RS-485 pair never talk at once.

import ndp
import segfont

VERSION = "1.0"


class Node:
    def __init__(self, address: int, panel, write, now=None) -> None:
        if not 1 <= address <= 254:
            raise ValueError("display address must be 1..254")
        self.address = address
        self.panel = panel
        self.write = write
        self.now = now or (lambda: 0)
        self.parser = ndp.Parser()
        self.last = None  # (seq, cmd, data) of the last frame applied
        self.applied = 0
        self.naks = 0

    def feed(self, chunk: bytes) -> None:
        for frame in self.parser.feed(chunk):
            self.handle(frame)

    def handle(self, frame) -> None:
        if frame.cmd == ndp.ACK or frame.cmd == ndp.NAK:
            return  # another display's reply on the shared pair
        mine = frame.addr == self.address
        if not mine and frame.addr != ndp.BROADCAST:
            return
        if frame.status != ndp.FRAME_OK:
            # The address byte matched, so only this display can answer: a
            # NAK gets the retry going sooner than the host's timeout would.
            if mine:
                self.reply(frame.seq, ndp.NAK, bytes([ndp.NAK_CHECKSUM]))
            return
        key = (frame.seq, frame.cmd, frame.data)
        if mine and key == self.last:
            # A retry of a frame already applied (our ACK was lost): answer
            # again without restarting a blink.
            self.reply(frame.seq, ndp.ACK, self.info() if frame.cmd == ndp.CMD_PING else b"")
            return
        reason, answer = self.apply(frame.cmd, frame.data)
        if reason:
            self.naks += 1
            if mine:
                self.reply(frame.seq, ndp.NAK, bytes([reason]))
            return
        self.applied += 1
        self.last = key
        if mine:
            self.reply(frame.seq, ndp.ACK, answer)

    def apply(self, cmd: int, data: bytes):  # -> (nak reason or 0, ack data)
        try:
            text = data.decode()
        except UnicodeError:
            return ndp.NAK_DATA, b""
        panel = self.panel
        try:
            if cmd == ndp.CMD_NUMBER:
                if not text or any(ch.upper() not in segfont.NUMBER_CHARS for ch in text):
                    return ndp.NAK_DATA, b""
                panel.show(text)
            elif cmd == ndp.CMD_TEXT:
                panel.show(text)
            elif cmd == ndp.CMD_CLEAR:
                panel.clear()
            elif cmd == ndp.CMD_BLINK:
                if not text or not text.isdigit():
                    return ndp.NAK_DATA, b""
                panel.blink(int(text), self.now())
            elif cmd == ndp.CMD_BRIGHT:
                if len(text) != 1 or text.upper() not in "0123456789ABCDEF":
                    return ndp.NAK_DATA, b""
                panel.brightness(int(text, 16))
            elif cmd == ndp.CMD_PING:
                return 0, self.info()
            else:
                return ndp.NAK_COMMAND, b""
        except ValueError:
            return ndp.NAK_DATA, b""  # the font cannot draw it or it does not fit
        return 0, b""

    def info(self) -> bytes:
        return ("NDP/1 fw=%s digits=%d" % (VERSION, self.panel.digits)).encode()

    def reply(self, seq: int, kind: int, data: bytes) -> None:
        self.write(ndp.encode(self.address, seq, kind, data))
