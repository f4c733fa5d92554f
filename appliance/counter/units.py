"""Choosing this unit's ``[[counter_units]]`` table and checking it against
the rest of the branch (counters and services live outside the section)."""

from __future__ import annotations

from ..config.branch import Config
from ..errors import ConfigError
from .config import CounterUnit, check_units


def select_unit(cfg: Config, unit_id: str | None) -> CounterUnit:
    """The unit called ``unit_id``, or the only one; checked against the branch."""
    units = cfg.counter_units
    if not units:
        raise ConfigError([("counter_units", "no [[counter_units]] table in the configuration")])
    if unit_id is None:
        if len(units) > 1:
            names = ", ".join(u.unit for u in units)
            raise ConfigError(
                [("counter_units", f"several units ({names}): choose one with --unit")]
            )
        index = 0
    else:
        matches = [i for i, u in enumerate(units) if u.unit == unit_id]
        if not matches:
            raise ConfigError([("counter_units", f"no counter unit {unit_id!r}")])
        index = matches[0]
    problems = check_units(units, cfg)
    mine = [(p, m) for p, m in problems if p.startswith(f"counter_units[{index}]")]
    if mine:
        raise ConfigError(mine)
    return units[index]
