"""The firmware's frame codec and parser, against the bytes in docs/counter-display.md."""

from __future__ import annotations

import ndp  # firmware/ndp.py
from hypothesis import given
from hypothesis import strategies as st

from tests.support.firmware import DOC_EXAMPLES, hexbytes

# The byte-level examples of docs/counter-display.md, verbatim.


def test_crc8_check_value() -> None:
    # CRC-8 (poly 0x07, init 0, no reflection): the catalogue's check value.
    assert ndp.crc8(b"123456789") == 0xF4


def test_encode_matches_documented_bytes() -> None:
    for args, wire in DOC_EXAMPLES:
        assert ndp.encode(*args) == hexbytes(wire), args


def test_parser_decodes_documented_bytes() -> None:
    for (addr, seq, cmd, data), wire in DOC_EXAMPLES:
        (frame,) = ndp.Parser().feed(hexbytes(wire))
        assert (frame.status, frame.addr, frame.seq, frame.cmd, frame.data) == (
            ndp.FRAME_OK,
            addr,
            seq,
            cmd,
            data,
        )


@given(
    addr=st.integers(0, 255),
    seq=st.integers(0, 255),
    cmd=st.integers(0, 255),
    data=st.binary(max_size=ndp.MAX_DATA),
)
def test_round_trip_any_bytes(addr: int, seq: int, cmd: int, data: bytes) -> None:
    wire = ndp.encode(addr, seq, cmd, data)
    # Framing bytes appear only at the ends, whatever the content.
    assert wire[0] == ndp.STX and wire[-1] == ndp.ETX
    assert ndp.STX not in wire[1:-1] and ndp.ETX not in wire[1:-1]
    (frame,) = ndp.Parser().feed(wire)
    assert (frame.status, frame.addr, frame.seq, frame.cmd, frame.data) == (
        ndp.FRAME_OK,
        addr,
        seq,
        cmd,
        data,
    )


@given(noise=st.binary(max_size=40).filter(lambda b: ndp.STX not in b))
def test_noise_between_frames_is_skipped(noise: bytes) -> None:
    parser = ndp.Parser()
    frames = parser.feed(noise + ndp.encode(1, 4, ord("N"), b"B7") + noise)
    assert [(f.status, f.data) for f in frames] == [(ndp.FRAME_OK, b"B7")]


def test_bad_checksum_is_reported_not_accepted() -> None:
    wire = bytearray(ndp.encode(1, 0, ord("N"), b"A123"))
    wire[5] ^= 0x01  # one bit flipped in the data
    (frame,) = ndp.Parser().feed(bytes(wire))
    assert frame.status == ndp.FRAME_BAD_CRC


def test_truncated_frame_is_dropped_and_next_frame_parsed() -> None:
    parser = ndp.Parser()
    good = ndp.encode(1, 1, ord("N"), b"C042")
    frames = parser.feed(good[:5] + good)
    assert [f.data for f in frames] == [b"C042"]
    assert parser.dropped == 1


def test_short_and_overlong_frames_are_dropped() -> None:
    parser = ndp.Parser()
    assert parser.feed(bytes([ndp.STX, 0x41, 0x42, ndp.ETX])) == []
    assert parser.feed(bytes([ndp.STX]) + b"x" * (ndp.MAX_BODY + 5) + bytes([ndp.ETX])) == []
    assert parser.dropped == 2
    # and the parser is ready for the next good frame
    assert [f.data for f in parser.feed(ndp.encode(1, 0, ord("T"), b"OFF"))] == [b"OFF"]


def test_dangling_escape_is_dropped() -> None:
    parser = ndp.Parser()
    assert parser.feed(bytes([ndp.STX, 1, 0, 0x4E, 0x41, ndp.DLE, ndp.ETX])) == []
    assert parser.dropped == 1


def test_frames_split_across_reads() -> None:
    parser = ndp.Parser()
    wire = ndp.encode(1, 207, ord("N"), b"A123") * 2
    frames = [f for byte in wire for f in parser.feed(bytes([byte]))]
    assert [f.seq for f in frames] == [207, 207]
