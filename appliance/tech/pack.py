"""`nidaa pack`: the part of `nidaa provision`'s folder that one Pi needs.

The provisioning folder holds the branch's CA keys (the broker's and etcd's)
and every unit's password; it stays on the Pi where `nidaa provision` runs.
Another Pi gets a pack: exactly the files `nidaa install --from` reads for
the units named, and nothing else (never a CA key, never another unit's
secret).  Its layout is the provisioning folder's, so `--from PACK` works as
`--from DIR` does:

=====================  =========================================================
an etcd member         ``etcd/<n>.env`` and the CA, certificate and key it names
a broker               ``dynamic-security.json``, its ``nidaa.conf`` and with TLS
                       ``ca.crt`` and its own server certificate and key
                       (``broker-1`` also ``bridge.conf``/``central-ca.crt``
                       when the branch is bridged to a central broker)
an MQTT unit           ``credentials/<unit>.toml`` and ``.password``; a master
                       candidate of ``[ha]`` on https also ``etcd/ca.crt`` and
                       the candidates' ``client.crt``/``client.key``
=====================  =========================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config.branch import Config
from ..errors import NidaaError
from .accounts import accounts
from .brokers import broker_names
from .etcd_files import member_names
from .files import write_atomic
from .install_cluster import CLIENT_FILES, broker_steps, client_tls, etcd_member_steps, need

#: Files a pack never carries, whatever a folder holds.
NEVER = ("ca.key",)
BRIDGE_FILES = ("bridge.conf", "central-ca.crt")


def pack_sources(cfg: Config, top: Path, units: list[str]) -> dict[Path, Path]:
    """``{path inside the pack: its source in top}`` for ``units``; checks
    every unit and file before anything is written."""
    if not units:
        raise NidaaError("name the units this Pi will run (e.g. etcd-2 broker-2 master-b)")
    members = member_names(cfg) if cfg.ha is not None else []
    brokers = [name for name, _ in broker_names(cfg)]
    roles = {acc.username: acc.role for acc in accounts(cfg)}
    found: list[Path] = []
    for unit in units:
        if unit in members:
            _, steps = etcd_member_steps(cfg, top, unit)
            found += [top / "etcd" / f"{unit}.env", *(s[1] for s in steps)]
        elif unit in brokers:
            _, steps = broker_steps(cfg, top, unit)
            found += [s[1] for s in steps]
            if unit == "broker-1":
                found += [top / f for f in BRIDGE_FILES if (top / f).is_file()]
        elif unit in roles:
            found += [top / "credentials" / f"{unit}{ext}" for ext in (".toml", ".password")]
            if roles[unit] == "master" and client_tls(cfg):
                found += [top / "etcd" / f for f in CLIENT_FILES]
        else:
            raise NidaaError(
                f"{unit!r} is not a unit of this branch file (etcd members: "
                f"{', '.join(members) or 'none'}; brokers: {', '.join(brokers)}; "
                f"units: {', '.join(roles)})"
            )
    need(found)
    picked = {src.relative_to(top): src for src in found}
    leaked = [str(p) for p in picked if p.name in NEVER]
    if leaked:  # a CA key never leaves the provisioning Pi
        raise NidaaError(f"refusing to pack a CA key: {', '.join(leaked)}")
    return dict(sorted(picked.items()))


def write_pack(out: Path, sources: dict[Path, Path]) -> list[Path]:
    """The pack in ``out`` (absent or empty): each file with its source's
    mode, folders 0700.  Returns the files written."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise NidaaError(f"{out} exists and is not an empty folder: give a new one")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    written = []
    for rel, src in sources.items():
        target = out / rel
        for folder in reversed(target.relative_to(out).parents[:-1]):
            (out / folder).mkdir(mode=0o700, exist_ok=True)
        write_atomic(target, src.read_bytes(), src.stat().st_mode & 0o777)
        written.append(target)
    return written
