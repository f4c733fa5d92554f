"""Helpers the tests share (the one place they live: no test imports another).

This module: the example branch, a branch file per test, a running branch
(real master process on the session's broker) and a watcher of its topics.
Beside it, helpers for one area each: ``counter``, ``engine``, ``firmware``,
``kiosk``, ``master``, ``pixels``, ``printer``, ``procs``, ``selftest``, ``sms``.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from appliance.bus.client import BusClient, Message, new_command_id
from appliance.config.branch import Config, load_config
from appliance.config.example import EXAMPLE_PATH
from appliance.sim.harness.procs import Daemon, wait_until
from appliance.tech.system import ImageSystem

REPO = Path(__file__).resolve().parents[2]
#: The example branch shipped in the package (``nidaa config example``).
EXAMPLE_CONFIG = EXAMPLE_PATH
#: The counter sign's MicroPython firmware, importable as plain modules.
FIRMWARE = REPO / "firmware"
_branches = itertools.count(1)


def write_config(tmp_path: Path, broker_url: str, *, replace: dict[str, str] | None = None) -> Path:
    """The example branch under a fresh branch id (so retained messages of
    other tests never mix in), pointed at ``broker_url``."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    branch = f"t{next(_branches)}-{int(time.time() * 1000) % 100000}"
    text = text.replace('id = "giza-dokki"', f'id = "{branch}"', 1)
    text = text.replace('url = "mqtt://127.0.0.1:1883"', f'url = "{broker_url}"', 1)
    text = text.replace(
        'database = "/var/lib/nidaa/master.db"', f'database = "{tmp_path / "master.db"}"'
    )
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "branch.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Watcher:
    """A bus client that records every message on the filters it watches."""

    def __init__(self, config: Config, *filters: str) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()
        uid = new_command_id("watch")
        self.bus = BusClient(config, role="tool", unit=uid, client_id=uid, presence=False)
        for f in filters:
            self.watch(f)
        self.bus.start()
        assert self.bus.wait_connected(10)

    def watch(self, topic_filter: str) -> None:
        self.bus.subscribe(topic_filter, self._record)

    def _record(self, msg: Message) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, match: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if match(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    topics = [m.topic for m in self.messages[-10:]]
                    raise AssertionError(f"no matching message within {timeout}s; last: {topics}")
                self._cond.wait(left)

    def latest(self, topic: str) -> dict[str, Any] | None:
        with self._cond:
            for m in reversed(self.messages):
                if m.topic == topic and m.payload:
                    return dict(json.loads(m.payload))
        return None

    def close(self) -> None:
        self.bus.stop()


class Branch:
    """A running master process with a client to send commands."""

    def __init__(
        self, tmp_path: Path, broker_url: str, replace: dict[str, str] | None = None
    ) -> None:
        self.tmp_path = tmp_path
        self.config_path = write_config(tmp_path, broker_url, replace=replace)
        self.config = load_config(self.config_path)
        self.db = tmp_path / "master.db"
        self.broker_url = broker_url
        self.master = Daemon(
            ["master", "--config", str(self.config_path), "--db", str(self.db)],
            tmp_path / "master.log",
        )
        uid = new_command_id("client")
        self.client = BusClient(self.config, role="tool", unit=uid, client_id=uid, presence=False)
        self.watch = Watcher(self.config, self.config_topics().all_status)

    def config_topics(self) -> Any:
        from appliance.bus.topics import Topics

        return Topics(self.config.branch.id)

    def start(self) -> Branch:
        self.master.start()
        self.client.start()
        assert self.client.wait_connected(10)
        self.wait_master_online()
        return self

    def wait_master_online(self, timeout: float = 15.0) -> None:
        topic = self.config_topics().status("master", self.config.master.unit)
        ok = wait_until(lambda: (self.watch.latest(topic) or {}).get("state") == "online", timeout)
        assert ok, f"master did not come online:\n{self.master.log()}"

    def cmd(
        self, topic: str, timeout: float = 5.0, attempts: int = 1, **payload: Any
    ) -> dict[str, Any]:
        body = {"id": payload.pop("id", None) or new_command_id("t"), **payload}
        return self.client.request(topic, body, timeout=timeout, attempts=attempts)

    def issue(self, service: str = "A", priority: bool = False, **kw: Any) -> dict[str, Any]:
        return self.cmd(
            self.config_topics().ticket_cmd(self.client.sender, "issue"),
            service=service,
            priority=priority,
            **kw,
        )

    def counter(self, counter: str, action: str, **kw: Any) -> dict[str, Any]:
        return self.cmd(self.config_topics().counter_cmd(self.client.sender, counter, action), **kw)

    def snapshot(self) -> dict[str, Any]:
        return self.cmd(self.config_topics().queue_cmd(self.client.sender, "snapshot"))

    def close(self) -> None:
        self.client.stop()
        self.watch.close()
        self.master.stop()


@contextmanager
def running_branch(
    tmp_path: Path, broker_url: str, replace: dict[str, str] | None = None
) -> Iterator[Branch]:
    branch = Branch(tmp_path, broker_url, replace)
    try:
        yield branch.start()
    finally:
        branch.close()


class LinkedVenvImage(ImageSystem):
    """An image (``nidaa install --root``) whose venv is the tests' own
    environment: a real pip install into each root would take minutes.
    Everything else (users, ownership, enabling) is the real thing."""

    def make_venv(self, venv: Path, source: Path) -> None:
        import sys

        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "bin/nidaa").unlink(missing_ok=True)
        (venv / "bin/nidaa").symlink_to(Path(sys.executable).parent / "nidaa")


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under root with its mode and content: a snapshot of the machine."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():  # the command on PATH: its target, not the venv's file
                out[str(p.relative_to(root))] = (0, str(p.readlink()).encode())
                continue
            data = p.read_bytes() if p.is_file() else b""
            out[str(p.relative_to(root))] = (stat.S_IMODE(p.stat().st_mode), data)
    return out
