"""The SMS gateway tests' citizen, branch file changes and expected texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.config.branch import Config
from appliance.sms.config import render

PHONE = "+201012345678"


def sms_replace(tmp_path: Path, modem: Path) -> dict[str, str]:
    return {
        'modem = "/dev/ttyUSB2"': f'modem = "{modem}"\nsend_timeout_s = 14\nresend_unacked_s = 1',
        'outbox = "/var/lib/nidaa/sms-outbox.db"': f'outbox = "{tmp_path / "outbox.db"}"',
    }


def expected(cfg: Config, stage: str, **values: Any) -> str:
    assert cfg.sms is not None
    fields = {"centre": cfg.branch.name_ar, "hotline": cfg.branch.hotline, **values}
    return render(cfg.sms.all_templates[stage], fields)
