"""A master process for a measurement, and waiting until it answers."""

from __future__ import annotations

from pathlib import Path

from ...bus.client import BusClient, new_command_id
from ..harness.procs import Daemon, wait_until


def start_master(config: Path, url: str, db: Path, log: Path) -> Daemon:
    """A ``nidaa master`` process on the database ``db``, its output in ``log``."""
    return Daemon(
        ["master", "--config", str(config), "--broker", url, "--db", str(db)], log
    ).start()


def wait_answering(client: BusClient, master: Daemon, timeout: float = 30) -> None:
    """Until ``master`` answers ``client``'s snapshot requests (RuntimeError
    with its log if it does not in ``timeout`` seconds)."""
    if not client.wait_connected(10):
        raise RuntimeError(f"{client.unit} could not connect to the broker")
    snapshot = client.topics.queue_cmd(client.sender, "snapshot")
    if not wait_until(lambda: answers(client, snapshot), timeout):
        raise RuntimeError(f"the master did not start:\n{master.log()}")


def answers(client: BusClient, topic: str) -> bool:
    """Whether a request on ``topic`` is answered within a second."""
    try:
        client.request(topic, {"id": new_command_id("b")}, timeout=1)
        return True
    except Exception:
        return False
