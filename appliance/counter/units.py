"""Choosing this unit's ``[[counter_units]]`` table and checking it against
the rest of the branch (counters and services live outside the section)."""

from __future__ import annotations

from ..config import Config
from ..errors import ConfigError
from .config import CounterUnit


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
    problems = check_units(cfg)
    mine = [(p, m) for p, m in problems if p.startswith(f"counter_units[{index}]")]
    if mine:
        raise ConfigError(mine)
    return units[index]


def check_units(cfg: Config) -> list[tuple[str, str]]:
    """Every cross-section problem of the counter units, with its path."""
    problems: list[tuple[str, str]] = []
    counters = {c.id for c in cfg.counters}
    seen: set[str] = set()
    for i, u in enumerate(cfg.counter_units):
        path = f"counter_units[{i}]"
        if u.unit in seen:
            problems.append((f"{path}.unit", f"unit id {u.unit!r} is used twice"))
        seen.add(u.unit)
        if u.counter not in counters:
            problems.append((f"{path}.counter", f"unknown counter {u.counter!r}"))
        if u.transfer_service:
            try:
                cfg.service(u.transfer_service)
            except KeyError:
                problems.append(
                    (f"{path}.transfer_service", f"unknown service {u.transfer_service!r}")
                )
    return problems
