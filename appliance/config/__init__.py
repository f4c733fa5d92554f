"""The branch configuration: one TOML file per branch, one typed schema.

* :mod:`.schema` — the schema machinery (``setting``, the loader that reports
  every problem with its path, the Markdown reference);
* :mod:`.core` — the branch's own sections (centre, broker, services,
  counters, policy, master); imports no role, so the queue engine and every
  role's section can build on it;
* :mod:`.branch` — :class:`~appliance.config.branch.Config`, the whole file:
  the core plus each role's section, with every rule across sections, and
  :func:`~appliance.config.branch.load_config`;
* :mod:`.example` — the example branch shipped with Nidaa.

This package's own namespace re-exports the core only: importing it loads no
role.
"""

from .core import (
    ID,
    Branch,
    Branchwide,
    Broker,
    Counter,
    Fee,
    Master,
    Policy,
    Service,
    find_counter,
    find_service,
    parse_broker_url,
)

__all__ = [
    "ID",
    "Branch",
    "Branchwide",
    "Broker",
    "Counter",
    "Fee",
    "Master",
    "Policy",
    "Service",
    "find_counter",
    "find_service",
    "parse_broker_url",
]
