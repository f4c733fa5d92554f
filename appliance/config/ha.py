"""The ``[ha]`` section: a standby master on a three-member etcd cluster.

Without it the branch has one master and no etcd (nothing below runs).  With
it, every candidate listed may become the active master; leadership, fencing
and the replicated log are in :mod:`appliance.master.standby`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from .core import ID
from .schema import duplicates, setting


@dataclass(frozen=True)
class Ha:
    """A standby master: leadership held on an etcd cluster (docs/standby.md)."""

    endpoints: list[str] = setting(
        "etcd client URLs of the cluster's members (http://host:2379 or https://host:2379),"
        " three for a branch: with two, losing either stops every write.",
        example=["https://10.0.0.10:2379", "https://10.0.0.11:2379", "https://10.0.0.12:2379"],
    )
    candidates: list[str] = setting(
        "Unit ids that may be the active master (the first to claim leadership is); `master.unit`"
        " must be one of them.",
        example=["master", "master-b"],
    )
    lease_s: float = setting(
        "Seconds the active master's leadership outlives its last renewal: a master that"
        " dies is replaced after about this long, and one that is paused longer may never"
        " acknowledge anything again.",
        default=3.0,
        minimum=1.0,
        maximum=60.0,
    )
    request_timeout_s: float = setting(
        "Seconds an etcd request may take in all, each member tried in turn; a command"
        " that no member commits in time is refused with `no_quorum`.  Less than 0.75 ×"
        " `broker.keepalive_s`: the master pings the broker only between etcd requests.",
        default=3.0,
        minimum=0.5,
        maximum=30.0,
    )
    ca_file: str = setting("CA certificate of the etcd members (https endpoints).", default="")
    cert_file: str = setting("This unit's etcd client certificate (https endpoints).", default="")
    key_file: str = setting("Key of `cert_file`.", default="")
    compact_after: int = setting(
        "Log entries kept in etcd after the last snapshot; past this the active master"
        " writes a new snapshot and deletes the entries it holds.",
        default=2000,
        minimum=10,
        maximum=100000,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        if not self.endpoints:
            yield "endpoints", "at least one etcd endpoint is required (three for a branch)"
        for i, url in enumerate(self.endpoints):
            try:
                etcd_endpoint(url)
            except ValueError as exc:
                yield f"endpoints[{i}]", str(exc)
        for dup in duplicates(self.endpoints):
            yield "endpoints", f"endpoint {dup!r} is listed twice"
        if len(self.candidates) < 2:
            yield "candidates", "a standby needs at least two candidate units"
        for i, unit in enumerate(self.candidates):
            if not re.fullmatch(ID, unit):
                yield f"candidates[{i}]", f"{unit!r} is not a unit id (pattern {ID})"
        for dup in duplicates(self.candidates):
            yield "candidates", f"unit {dup!r} is listed twice"
        tls = any(u.startswith("https://") for u in self.endpoints)
        if tls and not self.ca_file:
            yield "ca_file", "https endpoints need the etcd CA certificate"
        if bool(self.cert_file) != bool(self.key_file):
            yield "key_file", "cert_file and key_file go together"


def etcd_endpoint(url: str) -> tuple[str, int, bool]:
    """``(host, port, tls)`` of an etcd client URL; ``ValueError`` if it is none."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"an etcd endpoint looks like https://host:2379, not {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in etcd endpoint {url!r}") from None
    return parts.hostname, port or 2379, parts.scheme == "https"
