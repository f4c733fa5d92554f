"""The ticket's QR code: qrcode's own symbol, its mask chosen faster."""

from __future__ import annotations

import importlib
import random
import string
from typing import Any

from PIL import ImageChops

from appliance.kiosk.qr import best_mask, lost_point, qr_image

qrcode: Any = importlib.import_module("qrcode")
qr_util: Any = importlib.import_module("qrcode.util")


def references() -> list[str]:
    rng = random.Random(15)
    refs = [f"NIDAA:giza-dokki:2026-12-{d:02d}:{p}{n:03d}:{i}"
            for d, p, n, i in [(4, "A", 5, 0), (31, "E", 999, 123456), (1, "B", 1, 7)]]  # fmt: skip
    for _ in range(60):
        length = rng.choice([5, 20, 40, 60, 90, 150, 260])  # versions 1 to 10
        refs.append("".join(rng.choice(string.printable[:94]) for _ in range(length)))
    return refs


def qrcode_choice(data: str) -> tuple[int, Any]:
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.best_fit()
    return code.best_mask_pattern(), code


def test_the_mask_is_the_one_qrcode_chooses() -> None:
    versions = set()
    for data in references():
        expected, code = qrcode_choice(data)
        versions.add(code.version)
        assert best_mask(code) == expected, data
    assert {1, 3} <= versions and max(versions) >= 7  # some with version information


def test_penalty_matches_qrcode_for_every_mask() -> None:
    _, code = qrcode_choice("NIDAA:giza-dokki:2026-12-04:C123:4567")
    for k in range(8):
        code.makeImpl(True, k)
        modules = [[bool(v) for v in row] for row in code.modules]
        assert lost_point(modules) == qr_util.lost_point(code.modules), k


def test_penalty_matches_qrcode_on_arbitrary_modules() -> None:
    """Every rule, at every size, on module patterns a symbol rarely has:
    long runs at the edges of lines, finder-like patterns either way round
    and across the end of a line, blocks, a dark share far from half."""
    rng = random.Random(18004)
    finder = [True, False, True, True, True, False, True, False, False, False, False]
    for n in (21, 25, 29, 45, 57):
        for trial in range(12):
            dark = (0.5, 0.1, 0.9, 0.3)[trial % 4]
            modules = [[rng.random() < dark for _ in range(n)] for _ in range(n)]
            for _ in range(trial):  # finder-like patterns, some cut by the line's end
                r, c = rng.randrange(n), rng.randrange(n - 5)
                pattern = finder if rng.random() < 0.5 else finder[::-1]
                for i, v in enumerate(pattern[: n - c]):
                    modules[r][c + i] = v
                    modules[c + i][r] = v
            if trial % 3 == 0:
                modules[0] = [True] * n  # a run the whole line long
            assert lost_point(modules) == qr_util.lost_point(modules), (n, trial)


def test_the_image_is_qrcodes() -> None:
    """The symbol (its format and version information written into the
    scored one) and its pixels are qrcode's own, for versions 1 to 10."""
    for data in references()[::3]:
        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(data)
        code.make(fit=True)
        code.box_size = max(2, 192 // (code.modules_count + 4))
        expected = code.make_image().get_image()
        got = qr_image(data, 192)
        assert got.size == expected.size, data
        assert ImageChops.difference(got.convert("L"), expected.convert("L")).getbbox() is None
