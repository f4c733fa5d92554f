"""Options and helpers shared by the commands that talk to the bus."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..bus.client import BusClient, new_command_id
from ..bus.credential import Credential, tool_credential
from ..config.branch import Config, load_config
from ..errors import ConfigError

DEFAULT_CONFIG = "/etc/nidaa/branch.toml"


def add_bus_options(p: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    p.add_argument(
        "--config",
        default=os.environ.get("NIDAA_CONFIG", DEFAULT_CONFIG),
        metavar="FILE",
        help=f"branch configuration (default: $NIDAA_CONFIG or {DEFAULT_CONFIG})",
    )
    p.add_argument("--broker", metavar="URL", help="mqtt://host:port, overrides the configuration")
    p.add_argument(
        "--credential",
        metavar="FILE",
        help="the technician's MQTT credential (tech.toml from nidaa provision; default: "
        "$NIDAA_CREDENTIAL or ~/.config/nidaa/credential.toml)",
    )
    if json_output:
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument(
            "--timeout", type=float, default=3.0, help="seconds to wait for the master (default 3)"
        )


@contextmanager
def tool_client(args: argparse.Namespace) -> Iterator[tuple[Config, BusClient]]:
    """A bus client for a technician command (not a unit: no presence)."""
    cfg = load_config(args.config)
    credential = tool_credential(getattr(args, "credential", None))
    _check_tool_credential(credential)
    client_id = f"tech-{socket.gethostname()}-{os.getpid()}"[:64]
    bus = BusClient(
        cfg,
        role="tool",
        unit=client_id,
        broker_url=args.broker,
        client_id=client_id,
        presence=False,
        credential=credential,
    )
    bus.start()
    try:
        if not bus.wait_connected(getattr(args, "timeout", 3.0)):
            raise bus.connect_error()
        yield cfg, bus
    finally:
        bus.stop()


def _check_tool_credential(credential: Credential | None) -> None:
    """A unit's credential is bound to its daemon's client id: a command
    using it would either be refused or knock the daemon off the bus."""
    if credential is not None and credential.client_id:
        raise ConfigError(
            [
                (
                    "",
                    f"this is the credential of unit {credential.username!r}, which the broker "
                    f"accepts only as its daemon (client id {credential.client_id!r}); use the "
                    "technician's credential (credentials/tech.toml), see docs/install.md",
                )
            ],
            credential.source,
        )


def send(bus: BusClient, topic: str, args: argparse.Namespace, **payload: Any) -> dict[str, Any]:
    """One command to the master, retried with the same id until the timeout."""
    body = {"id": new_command_id(bus.unit), **payload}
    return bus.request(topic, body, timeout=max(0.5, args.timeout / 3), attempts=3)
