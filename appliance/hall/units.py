"""Choosing this unit's ``[[displays]]`` table, checked against the branch."""

from __future__ import annotations

from ..config.branch import Config
from ..errors import ConfigError
from .config import DisplayUnit, check_displays


def display_unit(cfg: Config, unit: str | None = None) -> DisplayUnit:
    """The display section for ``unit``; the only one (or defaults) when not named."""
    problems = list(check_displays(cfg.displays, cfg))
    if problems:
        raise ConfigError(problems)
    if unit is None:
        if len(cfg.displays) > 1:
            ids = ", ".join(d.id for d in cfg.displays)
            raise ConfigError([("displays", f"several displays ({ids}): choose one with --unit")])
        return cfg.displays[0] if cfg.displays else DisplayUnit(id="d1")
    for d in cfg.displays:
        if d.id == unit:
            return d
    raise ConfigError([("displays", f"no display with id {unit!r}")])
