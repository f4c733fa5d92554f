"""Documentation generated from the code must be the one committed."""

from __future__ import annotations

import io

from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.tech.docs import REFERENCE_COMMAND, configuration_reference
from tests.support import REPO


def test_configuration_reference_is_up_to_date() -> None:
    committed = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_reference(), (
        f"docs/configuration.md is out of date: run `{REFERENCE_COMMAND}`"
    )


def test_reference_names_every_section_and_setting() -> None:
    text = configuration_reference()
    for needle in ("`services[]`", "`counters[]`", "`broker`", "`prefix`", "pattern `[A-Z]`"):
        assert needle in text


def test_cli_prints_the_reference() -> None:
    out = io.StringIO()
    assert run(["config", "reference"], Environment(stdout=out, stderr=io.StringIO())) == 0
    assert out.getvalue() == configuration_reference()
