"""Start a private Mosquitto broker on a free port.

Used by the test suite, `nidaa demo` and `nidaa bench`: none of them may rely
on a broker that happens to be running on the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ...errors import NidaaError
from .procs import signals_deferred


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_mosquitto() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise NidaaError("mosquitto is not installed: apt-get install mosquitto mosquitto-clients")


class Mosquitto:
    """A Mosquitto process on 127.0.0.1 with its own config and data dir.

    ``extra_conf`` is appended to the generated configuration (listeners,
    password files, ACLs).  Persistence is on, as on a branch's master Pi,
    so restarting the broker keeps retained messages and sessions.
    """

    def __init__(
        self,
        workdir: str | Path | None = None,
        *,
        port: int | None = None,
        extra_conf: str = "",
        anonymous: bool = True,
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="nidaa-broker-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.anonymous = anonymous
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_conf(self) -> Path:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            f"log_dest file {self.workdir}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
            # Small request/response packets must not wait for delayed ACKs.
            "set_tcp_nodelay true",
        ]
        if os.geteuid() == 0:
            # As root Mosquitto drops to the `mosquitto` user unless told to
            # stay, and then cannot read the files made here.
            lines.append("user root")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n" + self.extra_conf)
        return conf

    def start(self, timeout: float = 10.0) -> Mosquitto:
        try:
            return self._start(timeout)
        except BaseException:  # Ctrl-C while starting: leave no broker behind
            self.stop()
            raise

    def _start(self, timeout: float) -> Mosquitto:
        conf = self._write_conf()
        with signals_deferred():
            self.proc = subprocess.Popen(
                [find_mosquitto(), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = self.workdir / "mosquitto.log"
                if log.exists():
                    err += log.read_text()
                raise NidaaError(f"mosquitto exited at start: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise NidaaError(f"mosquitto did not listen on port {self.port} within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
