"""The shared Arabic renderer: shaping, order, digits, Latin runs, wrapping.

Renderings are compared with reference renderings built another way (the
presentation forms picked by arabic-reshaper, put in visual order by
python-bidi, drawn without shaping), and with wrong renderings that must NOT
match, so a test fails when shaping or ordering breaks.
"""

from __future__ import annotations

from pathlib import Path

import arabic_reshaper
import pytest
from bidi import get_display
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from appliance.arabic import ArabicRenderer, FontNotFoundError, raqm_available, split_runs

SIZE = 48
needs_raqm = pytest.mark.skipif(not raqm_available(), reason="Pillow without libraqm")


@pytest.fixture(scope="module")
def renderer() -> ArabicRenderer:
    return ArabicRenderer()


def ink(image: Image.Image) -> Image.Image:
    """Black-on-white → white ink on black, cropped to the ink."""
    mask = image.convert("L").point(lambda v: 255 if v < 128 else 0)
    box = mask.getbbox()
    assert box is not None, "nothing was drawn"
    return mask.crop(box)


def mismatch(a: Image.Image, b: Image.Image) -> float:
    """Share of ink in either image not within 1 px of ink in the other
    (0.0: same drawing; kerning differences between engines stay small)."""
    a, b = ink(a), ink(b)
    size = (max(a.width, b.width), max(a.height, b.height))
    big_a, big_b = Image.new("L", size), Image.new("L", size)
    big_a.paste(a)
    big_b.paste(b)

    def missing(x: Image.Image, y: Image.Image) -> float:
        lost = ImageChops.subtract(x, y.filter(ImageFilter.MaxFilter(3)))
        return lost.histogram()[255] / max(1, x.histogram()[255])

    return max(missing(big_a, big_b), missing(big_b, big_a))


def unshaped_drawing(renderer: ArabicRenderer, text: str) -> Image.Image:
    """``text`` drawn character by character in the given order, no shaping."""
    font = ImageFont.truetype(str(renderer.font_path), SIZE, layout_engine=ImageFont.Layout.BASIC)
    image = Image.new("L", (1200, 160), 255)
    ImageDraw.Draw(image).text((5, 5), text, font=font, fill=0)
    return image


WORDS = ["سلام", "تراخيص البناء", "المركز التكنولوجي", "التصالح في مخالفات البناء"]


@needs_raqm
@pytest.mark.parametrize("text", WORDS)
def test_raqm_output_equals_presentation_forms_in_visual_order(
    renderer: ArabicRenderer, text: str
) -> None:
    shaped = renderer.render_line(text, SIZE)
    reference = unshaped_drawing(renderer, get_display(arabic_reshaper.reshape(text)))
    logical_order = unshaped_drawing(renderer, arabic_reshaper.reshape(text))
    isolated_letters = unshaped_drawing(renderer, get_display(text))
    assert mismatch(shaped, reference) < 0.1
    # The comparison is sharp enough to see the two classic failures.
    assert mismatch(shaped, logical_order) > 0.3
    assert mismatch(shaped, isolated_letters) > 0.3


@pytest.mark.parametrize("text", [*WORDS, "الخط الساخن 16528"])
def test_fallback_engine_draws_the_same(renderer: ArabicRenderer, text: str) -> None:
    fallback = ArabicRenderer(renderer.font_path, use_raqm=False)
    assert not fallback.raqm
    assert mismatch(renderer.render_line(text, SIZE), fallback.render_line(text, SIZE)) < 0.1


def locate(line: Image.Image, part: Image.Image) -> tuple[int, float]:
    """Best horizontal position of ``part``'s ink inside ``line``'s ink, and the
    share of differing pixels there."""
    big, small = ink(line), ink(part)
    best = (-1, 1.0)
    for x in range(0, big.width - small.width + 1):
        for y in range(0, big.height - small.height + 1):
            window = big.crop((x, y, x + small.width, y + small.height))
            diff = ImageChops.difference(window, small).histogram()[255]
            score = diff / max(1, small.histogram()[255])
            if score < best[1]:
                best = (x, score)
    return best


@pytest.mark.parametrize("engine", [True, False])
def test_digits_inside_arabic_stay_left_to_right(renderer: ArabicRenderer, engine: bool) -> None:
    if engine and not raqm_available():
        pytest.skip("Pillow without libraqm")
    r = ArabicRenderer(renderer.font_path, use_raqm=engine)
    line = r.render_line("الخط الساخن 16528", SIZE)
    x, score = locate(line, r.render_line("16528", SIZE))
    assert score < 0.05, "the number is not drawn as 16528"
    assert x < ink(line).width // 3, "an Arabic sentence ending in a number shows it on the left"
    _, reversed_score = locate(line, r.render_line("82561", SIZE))
    assert reversed_score > 0.2


def test_latin_ticket_number_inside_arabic(renderer: ArabicRenderer) -> None:
    line = renderer.render_line("رقم A001", SIZE)
    number = renderer.render_line("A001", SIZE)
    x, score = locate(line, number)
    assert score < 0.05, "A001 must be drawn with a font that has Latin letters"
    assert x == 0, "in an Arabic paragraph the Latin number comes after (left of) the word"
    # With its space, so the glyphs sit on the same sub-pixel grid as in the line.
    word_x, word_score = locate(line, renderer.render_line("رقم ", SIZE))
    assert word_score < 0.05
    assert word_x > ink(number).width


def test_runs() -> None:
    assert [(r.text, r.script) for r in split_runs("رقم التذكرة A001 شباك 3")] == [
        ("رقم التذكرة ", "arabic"),
        ("A001", "latin"),
        (" شباك 3", "arabic"),
    ]
    assert [(r.text, r.script) for r in split_runs("Window 3 شباك")] == [
        ("Window 3 ", "latin"),
        ("شباك", "arabic"),
    ]
    assert [r.script for r in split_runs("16528")] == ["arabic"]


def test_draw_right_aligned_ends_at_anchor(renderer: ArabicRenderer) -> None:
    image = Image.new("L", (600, 100), 255)
    width, height = renderer.draw(image, (580, 10), "تراخيص البناء", 40)
    box = ImageChops.invert(image).getbbox()
    assert box is not None
    assert 570 <= box[2] <= 582
    assert abs((box[2] - box[0]) - width) <= 6
    assert height == renderer.measure("A", 40)[1], "every line of one size has one height"


def test_wrap_keeps_words_in_order_and_fits(renderer: ArabicRenderer) -> None:
    text = "صورة بطاقة الرقم القومي سارية وسند الملكية أو عقد مسجل والرسومات الهندسية المعتمدة"
    lines = renderer.wrap(text, 32, 300)
    assert len(lines) > 1
    assert " ".join(lines).split() == text.split()
    assert all(renderer.measure(line, 32)[0] <= 300 for line in lines)
    assert lines[0].startswith("صورة")


def test_wrap_cuts_an_overlong_word(renderer: ArabicRenderer) -> None:
    lines = renderer.wrap("A" * 60, 32, 200)
    assert "".join(lines) == "A" * 60
    assert all(renderer.measure(line, 32)[0] <= 200 for line in lines)


def test_missing_font_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(FontNotFoundError, match="fonts-noto-core"):
        ArabicRenderer(font_dirs=[tmp_path])
    with pytest.raises(FontNotFoundError, match="fonts-noto-core"):
        ArabicRenderer(tmp_path / "missing.ttf")


def test_rgba_line_for_screens(renderer: ArabicRenderer) -> None:
    image = renderer.render_line(
        "شباك 3", 40, fill=(255, 255, 0, 255), background=(0, 0, 0, 0), mode="RGBA"
    )
    assert image.mode == "RGBA"
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)


def test_paragraph_is_the_wrapped_lines_stacked(renderer: ArabicRenderer) -> None:
    text = "صورة بطاقة الرقم القومي سارية وسند الملكية أو عقد مسجل"
    block = renderer.render_paragraph(text, 32, 260)
    lines = renderer.wrap(text, 32, 260)
    line_height = renderer.measure("", 32)[1]
    assert block.size == (260, line_height * len(lines))
    for i, line in enumerate(lines):
        expected = Image.new("L", (260, line_height), 255)
        renderer.draw(expected, (260, 0), line, 32)
        row = block.crop((0, i * line_height, 260, (i + 1) * line_height))
        assert ImageChops.difference(row, expected).getbbox() is None
