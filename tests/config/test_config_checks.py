"""What `nidaa config validate` refuses so that a day never starts with it:
oversized and over-nested files, numbers that are not finite, text that would
reach paper, screen or SMS with control characters or bidi overrides, a
priority policy that never calls priority tickets, a unit id two roles share;
and every problem of a file listed in one run."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import MAX_BYTES, load_config, parse_config
from appliance.config.example import example_text
from appliance.errors import ConfigError
from tests.support import EXAMPLE_CONFIG

HERE = Path(__file__).resolve().parent
#: The example branch as it was before the settings were renamed to one
#: suffix style: a branch file written then must still validate.
BEFORE_RENAMES = HERE / "branch_before_renames.toml"


def validate(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["config", "validate", str(path)], Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue() + err.getvalue()


def problems(text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return dict(info.value.problems)


def test_config_example_prints_the_shipped_example() -> None:
    out = io.StringIO()
    assert run(["config", "example"], Environment(stdout=out, environ={})) == ExitCode.OK
    assert out.getvalue() == EXAMPLE_CONFIG.read_text(encoding="utf-8") == example_text()
    parse_config(out.getvalue())


def test_a_branch_file_with_the_former_setting_names_still_validates() -> None:
    old = load_config(BEFORE_RENAMES)
    new = load_config(EXAMPLE_CONFIG)
    text = BEFORE_RENAMES.read_text(encoding="utf-8")
    assert "next_guard_seconds = 3" in text and "flash_seconds = 6" in text
    assert old.counter_units[0].next_guard_s == 3 == new.counter_units[0].next_guard_s
    assert old.displays[0].flash_s == 6 and old.displays[0].panel_s == 10
    # Each former name lands on the new setting.
    renamed = (
        text.replace("hold_seconds = 1.5", "hold_seconds = 2.5")
        .replace(
            '[[counter_units]]\nunit = "counter-w2"',
            '[[counter_units]]\nunit = "counter-w2"\ncommand_timeout = 4\n'
            'display = { check_seconds = 9, port = "/dev/ttyAMA1" }\n'
            "feedback = { satisfied = 20, neutral = 21, unsatisfied = 26, window_seconds = 60 }",
        )
        .replace(
            'display = { port = "/dev/ttyAMA0", protocol = "vendor", address = 2, rs485 = "kernel" }\n',
            "",
        )
    )
    renamed = renamed.replace("[kiosks.printer]\n", "[kiosks.printer]\ntimeout = 0.5\n")
    renamed = renamed.replace("[broker]\n", "[broker]\nkeepalive = 30\n")
    renamed = renamed.replace("[sms]\n", "[sms]\ncommand_timeout_s = 3\n")
    cfg = parse_config(renamed)
    w1, w2 = cfg.counter_units
    assert w1.hold_s == 2.5
    assert w2.request_timeout_s == 4 and w2.display.check_s == 9
    assert w2.feedback is not None and w2.feedback.window_s == 60
    assert cfg.kiosks[0].printer.timeout_s == 0.5
    assert cfg.broker.keepalive_s == 30
    assert cfg.sms is not None and cfg.sms.modem_timeout_s == 3


def test_a_setting_given_under_both_names_is_refused(example_config_text: str) -> None:
    text = example_config_text.replace("hold_s = 1.5", "hold_s = 1.5\nhold_seconds = 2")
    assert problems(text) == {
        "counter_units[0].hold_seconds": "former name of 'hold_s': set only one"
    }


def test_every_problem_of_a_file_in_one_run(tmp_path: Path, example_config_text: str) -> None:
    # A wrong prefix used to hide the cross-section problems until fixed.
    text = example_config_text.replace('prefix = "C"', 'prefix = "cc"')
    text = text.replace('service = "shops",', 'service = "shop",')
    text = text.replace("messages_ar = [", 'services = ["nope"]\nmessages_ar = [')
    text = text.replace('services = ["building"]\n', 'services = ["bilding"]\n', 1)
    path = tmp_path / "branch.toml"
    path.write_text(text, encoding="utf-8")
    code, out = validate(path)
    assert code == ExitCode.CONFIG
    for where in (
        "services[2].prefix",
        "kiosks[0].buttons[2].service: unknown service 'shop'",
        "displays[0].services[0]: unknown service 'nope'",
        "counters[1].services[0]: unknown service 'bilding'",
    ):
        assert where in out, out


def test_a_file_nested_100k_deep_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    code, out = validate(path)
    assert code == ExitCode.CONFIG
    assert "nested deeper than 32" in out and "Traceback" not in out
    # Dotted keys as deep: the TOML parser would take minutes (its time grows
    # with the square of the key's parts).
    path.write_text("[branch]\nname_ar." + ".".join(["a"] * 100_000) + " = 1\n", encoding="utf-8")
    code, out = validate(path)
    assert code == ExitCode.CONFIG and "nested deeper than 32" in out


def test_dev_zero_and_huge_files_are_refused(tmp_path: Path) -> None:
    code, out = validate(Path("/dev/zero"))
    assert code == ExitCode.CONFIG and "larger than 1024 KiB" in out
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    assert validate(big)[0] == ExitCode.CONFIG


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_numbers_must_be_finite(example_config_text: str, value: str) -> None:
    text = example_config_text.replace("service_minutes = 9", f"service_minutes = {value}", 1)
    found = problems(text)
    assert found["services[0].service_minutes"].startswith("must be a finite number")


@pytest.mark.parametrize(
    "char",
    [
        "\\u0000",
        "\\u001b",
        "\\r",
        "\\n",
        "\\t",
        "\\u007f",
        "\\u202a",
        "\\u202e",
        "\\u2066",
        "\\u2069",
    ],
)
def test_control_and_bidi_characters_never_reach_paper_screen_or_sms(
    example_config_text: str, char: str
) -> None:
    cases = {
        "branch.name_ar": ('name_ar = "المركز', f'name_ar = "{char}المركز'),
        "branch.hotline": ('hotline = "16528"', f'hotline = "165{char}28"'),
        "services[0].name_ar": ('name_ar = "تراخيص البناء"', f'name_ar = "تراخيص{char} البناء"'),
        "services[4].documents_ar[1]": ('"إيصال تقديم الطلب"', f'"إيصال{char} تقديم الطلب"'),
        "services[0].fees[0].item_ar": ('item_ar = "رسم فحص الطلب"', f'item_ar = "رسم{char}"'),
        "displays[0].messages_ar[0]": ('["يرجى الاحتفاظ', f'["{char}يرجى الاحتفاظ'),
    }
    text = example_config_text
    for old, new in cases.values():
        assert old in text, old
        text = text.replace(old, new, 1)
    found = problems(text)
    for path in cases:
        assert "no control characters or bidi overrides" in found.get(path, ""), (path, found)


def test_never_without_a_priority_window_is_refused(example_config_text: str) -> None:
    text = example_config_text.replace('others = "ratio"', 'others = "never"')
    parse_config(text)  # w1 is the priority window
    text = text.replace("priority = true\n", "", 1)
    assert "priority tickets would never be called" in problems(text)["policy.others"]


@pytest.mark.parametrize(
    ("old", "new", "path", "other"),
    [
        ('unit = "k1"', 'unit = "counter-w1"', "kiosks[0].unit", "counter_units[0].unit"),
        ('id = "d1"', 'id = "master"', "displays[0].id", "master.unit"),
        ('unit = "sms1"', 'unit = "k1"', "sms.unit", "kiosks[0].unit"),
        ('id = "d1"', 'id = "tech"', "displays[0].id", "technician account"),
    ],
)
def test_a_unit_id_shared_by_two_roles_is_refused(
    example_config_text: str, old: str, new: str, path: str, other: str
) -> None:
    found = problems(example_config_text.replace(old, new, 1))
    assert f"is already used by {other}" in found[path], found
