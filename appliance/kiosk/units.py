"""Choosing this unit's ``[[kiosks]]`` table."""

from __future__ import annotations

from ..config.branch import Config
from ..errors import ConfigError
from .config import KioskUnit


def select_unit(cfg: Config, unit: str | None) -> KioskUnit:
    """The kiosk called ``unit``, or the only one."""
    if not cfg.kiosks:
        raise ConfigError([("kiosks", "the configuration has no [[kiosks]] section")])
    if unit is None:
        if len(cfg.kiosks) > 1:
            ids = ", ".join(k.unit for k in cfg.kiosks)
            raise ConfigError([("kiosks", f"several kiosks ({ids}): choose one with --unit")])
        return cfg.kiosks[0]
    for kiosk in cfg.kiosks:
        if kiosk.unit == unit:
            return kiosk
    raise ConfigError([("kiosks", f"no kiosk with unit {unit!r}")])
