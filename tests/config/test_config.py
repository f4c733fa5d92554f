from __future__ import annotations

import pytest

from appliance.config import parse_broker_url
from appliance.config.branch import load_config, parse_config
from appliance.errors import ConfigError
from tests.support import EXAMPLE_CONFIG


def test_example_config_is_a_realistic_branch() -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    assert cfg.branch.timezone == "Africa/Cairo"
    assert len(cfg.counters) == 6
    assert sum(c.priority for c in cfg.counters) == 1
    assert all(s.documents_ar for s in cfg.services)
    assert cfg.service("A").id == "building"
    assert cfg.service("reconcile").prefix == "B"
    assert cfg.counter("4").id == "w4"


def test_every_problem_is_reported_with_its_path(example_config_text: str) -> None:
    text = example_config_text.replace('prefix = "C"', 'prefix = "cc"').replace(
        "number = 6", "numbr = 6"
    )
    text = text.replace('others = "ratio"', 'others = "sometimes"')
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="branch.toml")
    paths = {path for path, _ in info.value.problems}
    assert "services[2].prefix" in paths
    assert "counters[5].numbr" in paths
    assert "counters[5].number" in paths
    assert "policy.others" in paths
    assert "did you mean 'number'" in str(info.value)
    assert str(info.value).startswith("branch.toml:")


def test_cross_references_are_checked(example_config_text: str) -> None:
    text = example_config_text.replace('services = ["reconcile"]', 'services = ["recon"]')
    text = text.replace('prefix = "B"', 'prefix = "A"')
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    messages = dict(info.value.problems)
    assert messages["counters[3].services[0]"] == "unknown service 'recon'"
    assert "prefix 'A' is used by more than one service" in messages["services"]


def test_bad_toml_and_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[branch\nid=1")
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884, False)),
        ("mqtts://master.local", ("master.local", 8883, True)),
        ("mqtt://pi", ("pi", 1883, False)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_broker_url(url) == expected


def test_bad_broker_url_is_rejected() -> None:
    with pytest.raises(ValueError, match="mqtt://host:port"):
        parse_broker_url("http://x")


def test_unit_sections_are_checked_against_the_branch(example_config_text: str) -> None:
    text = example_config_text.replace('counter = "w2"', 'counter = "w22"')
    text = text.replace('{ pin = 5,  service = "building"', '{ pin = 5,  service = "buildings"')
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    messages = dict(info.value.problems)
    assert messages["counter_units[1].counter"] == "unknown counter 'w22'"
    assert messages["kiosks[0].buttons[0].service"] == "unknown service 'buildings'"
