"""One ticket label on paper, hall screen, voice and SMS (branch.ticket_label)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from appliance.config.branch import Config, load_config, parse_config
from appliance.errors import ConfigError
from appliance.hall.daemon import display_renderer
from appliance.hall.screen import ACCENT, PANEL, Screen
from appliance.hall.state import Call, HallSnapshot
from appliance.hall.units import display_unit
from appliance.hall.words import Announcement
from appliance.kiosk.ticket import render_ticket, sample_face
from appliance.label import ticket_label
from appliance.sms.config import field_values
from tests.support import EXAMPLE_CONFIG
from tests.support.pixels import ticket_in_frame

WALL = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE_CONFIG)


def with_label(cfg: Config, style: str) -> Config:
    return dataclasses.replace(cfg, branch=dataclasses.replace(cfg.branch, ticket_label=style))


def test_the_arabic_form_is_what_the_voice_says() -> None:
    label = ticket_label("E001")
    assert (label.latin, label.arabic) == ("E001", "هـ ١")
    assert ticket_label("A123").arabic == "أ ١٢٣" and ticket_label("C1000").arabic == "ج ١٠٠٠"
    assert Announcement("E001", 3).text().startswith("العميل رقم هـ واحد")  # هاء, shown هـ
    assert label.text("both") == "هـ ١ (E001)"
    assert label.text("arabic") == "هـ ١" and label.text("latin") == "E001"
    assert ticket_label("weird").text("both") == "weird"  # never invents a form


def test_sms_says_the_ticket_as_the_paper_shows_it(cfg: Config) -> None:
    assert field_values(cfg, "C001")["ticket"] == "ج ١ (C001)"
    assert field_values(with_label(cfg, "latin"), "C001")["ticket"] == "C001"
    assert field_values(with_label(cfg, "arabic"), "C001")["ticket"] == "ج ١"


def test_paper_carries_both_forms_equally_large(cfg: Config) -> None:
    face = sample_face(cfg, "E")
    both = render_ticket(cfg, face, 576)
    latin = render_ticket(with_label(cfg, "latin"), face, 576)
    arabic = render_ticket(with_label(cfg, "arabic"), face, 576)
    # Two big numbers stacked: the ticket grows by about one number's height.
    assert both.height > latin.height + 100 and both.height > arabic.height + 100
    assert latin.tobytes() != arabic.tobytes()


def test_the_hall_shows_the_branch_form(cfg: Config) -> None:
    arabic = with_label(cfg, "arabic")
    screen = Screen(
        arabic, display_unit(arabic), (1920, 1080), display_renderer(display_unit(arabic))
    )
    snap = HallSnapshot(
        calls=(Call("A123", 4, received=0, fresh=False),), master_online=True, version=1
    )
    frame = screen.render(snap, WALL, 100.0)
    assert ticket_in_frame(frame, screen, "أ ١٢٣", ACCENT, PANEL) <= 2
    assert ticket_in_frame(frame, screen, "A123", ACCENT, PANEL) > 100


def test_the_voice_must_say_the_letter_the_paper_shows(cfg: Config) -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    latin_voice = text.replace('letters = "abjad"', 'letters = "latin"', 1)
    with pytest.raises(ConfigError, match=r"displays\[0\]\.letters.*use letters = 'abjad'"):
        parse_config(latin_voice)
    latin_paper = text.replace('ticket_label = "both"', 'ticket_label = "latin"', 1)
    with pytest.raises(ConfigError, match=r"displays\[0\]\.letters.*use letters = 'latin'"):
        parse_config(latin_paper)
    both_latin = latin_paper.replace('letters = "abjad"', 'letters = "latin"', 1)
    assert parse_config(both_latin).branch.ticket_label == "latin"
