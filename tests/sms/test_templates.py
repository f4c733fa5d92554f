"""SMS templates checked at `nidaa config validate`: rendered with the longest
values of the branch, refused past `sms.max_parts`, and nothing that would be
refused at runtime passes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import load_config, parse_config
from appliance.drivers.modem.pdu import encode
from appliance.errors import ConfigError
from appliance.sms.config import DEFAULT_TEMPLATES, field_values, render, template_parts
from tests.support import EXAMPLE_CONFIG


def validate(tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "branch.toml"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = run(["config", "validate", str(path)], Environment(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def test_every_default_template_encodes_to_one_pdu() -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    assert cfg.sms is not None
    # The longest of everything: 4-digit tickets in both forms, two-digit window.
    values = field_values(cfg, "E9999", "20261231-E9999", 99)
    assert values["ticket"] == "هـ ٩٩٩٩ (E9999)"
    for stage, template in DEFAULT_TEMPLATES.items():
        text = render(template, values)
        assert len(encode("+201012345678", text)) == 1, (stage, len(text))
    parts = template_parts(cfg)
    assert all(parts[stage] == 1 for stage in DEFAULT_TEMPLATES if stage not in cfg.sms.templates)


def test_validate_prints_parts_per_template(tmp_path: Path, example_config_text: str) -> None:
    code, out, _ = validate(tmp_path, example_config_text)
    assert code == ExitCode.OK
    parts = dict(line.split() for line in out.splitlines() if line.startswith("  "))
    assert parts["issued"] == "1" and parts["called"] == "1"
    assert parts["ready"] == "2"  # the example's own, longer text


def test_a_template_past_max_parts_is_refused(tmp_path: Path, example_config_text: str) -> None:
    text = example_config_text.replace("max_parts = 2", "max_parts = 1")
    code, _, err = validate(tmp_path, text)
    assert code == ExitCode.CONFIG
    assert "sms.templates.ready: the 'ready' SMS takes 2 parts" in err
    assert "sms.templates.inspection" in err
    # Without the short centre name the built-in texts need two parts each.
    text = example_config_text.replace('centre_name = "مركز الدقي التكنولوجي"', "")
    code, _, err = validate(tmp_path, text.replace("max_parts = 2", "max_parts = 1"))
    assert code == ExitCode.CONFIG and "set a short sms.centre_name" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('ready = "{ref:>100000000}"', "{ref} takes no format spec or conversion"),
        ('ready = "{ref!r}"', "{ref} takes no format spec or conversion"),
        ('ready = "' + "ا" * 100_000 + '"', "at most 1,000 characters, not 100,000"),
    ],
)
def test_templates_that_would_explode_are_refused(
    tmp_path: Path, example_config_text: str, change: str, message: str
) -> None:
    start = example_config_text.index("ready = ")
    end = example_config_text.index("\n", start)
    code, _, err = validate(
        tmp_path, example_config_text[:start] + change + example_config_text[end:]
    )
    assert code == ExitCode.CONFIG, err
    assert message in err and "Traceback" not in err
    assert len(err) < 2000  # the message, not the template echoed back


def test_a_huge_centre_name_is_refused(tmp_path: Path, example_config_text: str) -> None:
    name = 'name_ar = "المركز التكنولوجي لخدمة المواطنين - حي الدقي"'
    text = example_config_text.replace(name, 'name_ar = "' + "م" * 20_000 + '"')
    code, _, err = validate(tmp_path, text)
    assert code == ExitCode.CONFIG
    assert "branch.name_ar: at most 200 characters, not 20,000" in err


def test_whatever_validates_renders_and_encodes(example_config_text: str) -> None:
    # A template at the size cap with the longest values still encodes (multi-part).
    long = "ب" * 970
    text = example_config_text.replace("max_parts = 2", "max_parts = 10")
    start = text.index("ready = ")
    text = text[:start] + f'ready = "{{centre}} {long} {{ref}}"' + text[text.index("\n", start) :]
    with pytest.raises(ConfigError, match="takes 16 parts"):
        parse_config(text)
