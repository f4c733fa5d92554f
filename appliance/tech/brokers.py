"""The branch's brokers: ``broker-1`` at ``broker.url`` (the master's Pi) and
``broker-2``… at ``broker.fallback_urls`` (the standby candidate's Pi,
docs/standby.md).

Every broker has the same accounts: one ``dynamic-security.json`` made by
`nidaa provision`, copied to each by `nidaa install --role broker`.  Each has
its own ``nidaa.conf`` (its listener on its own URL's port) and, with TLS,
its own server certificate (its address in it) signed by the branch CA that
every unit's credential trusts.  Layout of the provisioning folder:

``nidaa.conf``, ``server.crt``, ``server.key``   broker-1
``broker-<n>/nidaa.conf``, ``server.*``          broker-<n>
``dynamic-security.json``, ``ca.crt``            every broker
"""

from __future__ import annotations

from pathlib import Path

from ..config import parse_broker_url
from ..config.branch import Config

#: The line of a broker's nidaa.conf naming its folder on its Pi.
ACCOUNTS_LINE = "plugin_opt_config_file "


def broker_names(cfg: Config) -> list[tuple[str, str]]:
    """``(name, url)`` of each broker, in the order units try them."""
    urls = [cfg.broker.url, *cfg.broker.fallback_urls]
    return [(f"broker-{i + 1}", url) for i, url in enumerate(urls)]


def broker_folder(out: Path, name: str) -> Path:
    """Where `nidaa provision` puts the broker's own files."""
    return out if name == "broker-1" else out / name


def broker_dir_on_pi(conf_text: str) -> Path | None:
    """The folder a provisioned ``nidaa.conf`` names for the broker's files."""
    for line in conf_text.splitlines():
        if line.startswith(ACCOUNTS_LINE):
            return Path(line.removeprefix(ACCOUNTS_LINE).strip()).parent
    return None


def listeners(
    url: str, *, tls: bool, port: int, tls_port: int, bind: str, first: bool
) -> tuple[int, int, str]:
    """``(plain port, TLS port, bind address)`` of the broker at ``url``.

    The first broker listens as `nidaa provision` was told (``--port``,
    ``--tls-port``, ``--bind``).  Another listens on its own URL's port
    (TLS or plain as the URL says), on its own address when ``bind`` is given,
    plus the plain loopback port with TLS, as the first one does.
    """
    if first:
        return port, tls_port, bind
    host, url_port, _ = parse_broker_url(url)
    own_bind = host if bind else ""
    return (port, url_port, own_bind) if tls else (url_port, tls_port, own_bind)
