"""The [[displays]] section of the branch file."""

from __future__ import annotations

import pytest

from appliance.config.branch import parse_config
from appliance.errors import ConfigError
from appliance.hall.units import display_unit


def with_displays(example: str, section: str) -> str:
    head = example.split("[[displays]]")[0]
    return head + section


def test_example_display_loads(example_config_text: str) -> None:
    cfg = parse_config(example_config_text)
    unit = display_unit(cfg)
    assert (unit.id, unit.languages, unit.letters, unit.audio) == (
        "d1",
        ["ar"],
        "abjad",
        "pygame",
    )


def test_every_problem_is_reported_with_its_path(example_config_text: str) -> None:
    text = with_displays(
        example_config_text,
        '[[displays]]\nid = "hall"\nwidth = 1920\nlanguages = ["ar", "fr"]\n'
        'audio = "record"\nletters = "greek"\nvolume = 2\n',
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    paths = {path for path, _ in err.value.problems}
    assert {"displays[0].languages[1]", "displays[0].letters", "displays[0].volume"} <= paths
    text = with_displays(
        example_config_text, '[[displays]]\nid = "hall"\nwidth = 1920\naudio = "record"\n'
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert {p for p, _ in err.value.problems} == {"displays[0].width", "displays[0].record_dir"}


def test_choosing_a_unit(example_config_text: str) -> None:
    two = with_displays(
        example_config_text,
        '[[displays]]\nid = "hall"\n[[displays]]\nid = "upstairs"\nservices = ["shops"]\n',
    )
    cfg = parse_config(two)
    with pytest.raises(ConfigError, match="--unit"):
        display_unit(cfg)
    assert display_unit(cfg, "upstairs").services == ["shops"]
    with pytest.raises(ConfigError, match="no display with id 'x'"):
        display_unit(cfg, "x")
    none = parse_config(example_config_text.split("[[displays]]")[0])
    assert display_unit(none).id == "d1"  # defaults when the branch names none


def test_unknown_service_on_a_display_fails_validation(example_config_text: str) -> None:
    # It used to pass `nidaa config validate` and stop only the daemon.
    text = with_displays(example_config_text, '[[displays]]\nid = "hall"\nservices = ["nope"]\n')
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.problems == [("displays[0].services[0]", "unknown service 'nope'")]
