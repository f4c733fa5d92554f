"""How a unit or a tool logs in to the branch broker, and what a refusal means.

The account is a :class:`~appliance.bus.credential.Credential` (a unit's own
file, or the technician's) or, failing that, ``[broker] username`` and
``password_file``.  A broker that refuses the account answers with a CONNACK
reason; :func:`refusal_text` says what it means for a person.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as mqtt

from ..config.branch import Config
from ..errors import AuthError, BusError, ConfigError
from .credential import Credential

#: CONNACK reasons that mean the credential, not the network.
AUTH_REASONS = ("Not authorized", "Bad user name or password", "Client identifier not valid")


def read_password(config: Config) -> str:
    """The password in ``[broker] password_file`` (empty when there is none)."""
    path = config.broker.password_file
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([("broker.password_file", f"cannot read: {exc}")]) from None


def log_in(client: mqtt.Client, config: Config, credential: Credential | None, *, tls: bool) -> str:
    """Give ``client`` its account and TLS settings; returns the user name."""
    if credential is not None:
        username = credential.username
        client.username_pw_set(credential.username, credential.password)
    else:
        username = config.broker.username
        if username:
            client.username_pw_set(username, read_password(config))
    if tls and credential is not None and credential.ca_pem:
        client.tls_set_context(ssl.create_default_context(cadata=credential.ca_pem))
    elif tls:
        client.tls_set(ca_certs=config.broker.ca_file or None)
    return username


def refusal_text(username: str, host: str, port: int, client_id: str, refused: str) -> str:
    """What the broker's refusal (its CONNACK reason) means, for a person."""
    who = f"user {username!r}" if username else "an anonymous client"
    what = f"broker {host}:{port} refused {who} with client id {client_id!r}"
    if refused in AUTH_REASONS:
        hint = (
            "the password, or this credential's client id, is not the one provisioned"
            if username
            else "the broker needs a credential (nidaa provision; docs/install.md)"
        )
        return f"{what}: not authorized ({refused}): {hint}"
    return f"{what}: {refused}"


def connect_error(username: str, host: str, port: int, client_id: str, refused: str) -> BusError:
    """Why a client is not connected: refused (:class:`AuthError` when the
    credential is not allowed) or unreachable."""
    if refused in AUTH_REASONS:
        return AuthError(refusal_text(username, host, port, client_id, refused))
    if refused:
        return BusError(refusal_text(username, host, port, client_id, refused))
    return BusError(f"broker {host}:{port} is unreachable")
