"""The SMS gateway tests' citizen, branch file changes and expected texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.config.branch import Config
from appliance.sms.config import field_values, render

PHONE = "+201012345678"


def sms_replace(tmp_path: Path, modem: Path) -> dict[str, str]:
    return {
        'modem = "/dev/ttyUSB2"': f'modem = "{modem}"\nsend_timeout_s = 14\nresend_unacked_s = 1',
        'outbox = "/var/lib/nidaa/sms-outbox.db"': f'outbox = "{tmp_path / "outbox.db"}"',
    }


def expected(cfg: Config, stage: str, **values: Any) -> str:
    assert cfg.sms is not None
    text = render(cfg.sms.all_templates[stage], field_values(cfg, **values))
    # What the citizen reads: the short centre name and the ticket's two forms.
    assert cfg.sms.centre_name in text
    if "ticket" in values and "{ticket}" in cfg.sms.all_templates[stage]:
        assert f"({values['ticket']})" in text
    return text
