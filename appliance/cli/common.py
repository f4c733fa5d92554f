"""Options and helpers shared by the commands that talk to the bus."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..bus.client import BusClient, new_command_id
from ..config.branch import Config, load_config
from ..errors import BusError

DEFAULT_CONFIG = "/etc/nidaa/branch.toml"


def add_bus_options(p: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    p.add_argument(
        "--config",
        default=os.environ.get("NIDAA_CONFIG", DEFAULT_CONFIG),
        metavar="FILE",
        help=f"branch configuration (default: $NIDAA_CONFIG or {DEFAULT_CONFIG})",
    )
    p.add_argument("--broker", metavar="URL", help="mqtt://host:port, overrides the configuration")
    if json_output:
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument(
            "--timeout", type=float, default=3.0, help="seconds to wait for the master (default 3)"
        )


@contextmanager
def tool_client(args: argparse.Namespace) -> Iterator[tuple[Config, BusClient]]:
    """A bus client for a technician command (not a unit: no presence)."""
    cfg = load_config(args.config)
    client_id = f"tech-{socket.gethostname()}-{os.getpid()}"[:64]
    bus = BusClient(
        cfg,
        role="tool",
        unit=client_id,
        broker_url=args.broker,
        client_id=client_id,
        presence=False,
    )
    bus.start()
    try:
        if not bus.wait_connected(getattr(args, "timeout", 3.0)):
            raise BusError(f"broker {bus.host}:{bus.port} is unreachable")
        yield cfg, bus
    finally:
        bus.stop()


def send(bus: BusClient, topic: str, args: argparse.Namespace, **payload: Any) -> dict[str, Any]:
    """One command to the master, retried with the same id until the timeout."""
    body = {"id": new_command_id(bus.unit), **payload}
    return bus.request(topic, body, timeout=max(0.5, args.timeout / 3), attempts=3)
