"""Start a private etcd cluster (three members on loopback) on free ports.

Used by the test suite, `nidaa demo --chaos --standby` and `nidaa bench
--standby`: each member is a real ``etcd`` process (the OS package) with its
own data folder; members can be killed, paused and started again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ...errors import NidaaError
from .broker import free_port
from .procs import signals_deferred


def find_etcd() -> str:
    for candidate in (shutil.which("etcd"), "/usr/bin/etcd"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise NidaaError("etcd is not installed: apt-get install etcd-server")


class EtcdMember:
    """One member: its name, ports, data folder and process."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.data_dir = workdir / name
        self.client_port = free_port()
        self.peer_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{name}.log"

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def command(self, cluster: str, token: str) -> list[str]:
        return [
            find_etcd(),
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={cluster}",
            f"--initial-cluster-token={token}",
            "--initial-cluster-state=new",
            # The log keys are deleted as snapshots are taken; their history
            # goes too (docs/standby.md).
            "--auto-compaction-mode=revision",
            "--auto-compaction-retention=1000",
            "--logger=zap",
            "--log-level=warn",
        ]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class EtcdCluster:
    """Three etcd members on 127.0.0.1; stopped (killed) and deleted on close."""

    def __init__(self, workdir: str | Path | None = None, *, members: int = 3) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="nidaa-etcd-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.members = [EtcdMember(f"m{i + 1}", self.workdir) for i in range(members)]
        self.token = f"nidaa-{os.getpid()}-{time.monotonic_ns()}"
        self.cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self) -> list[str]:
        return [m.client_url for m in self.members]

    def start_member(self, index: int) -> None:
        member = self.members[index]
        if member.running:
            return
        with signals_deferred(), open(member.log_path, "ab") as log:
            member.proc = subprocess.Popen(
                member.command(self.cluster, self.token),
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    def start(self, timeout: float = 30.0) -> EtcdCluster:
        try:
            for i in range(len(self.members)):
                self.start_member(i)
            self.wait_healthy(timeout)
            return self
        except BaseException:
            self.close()
            raise

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until a write commits (the members elected a leader)."""
        from ...master.etcd import Etcd

        client = Etcd([m.client_url for m in self.members if m.running], timeout_s=2.0)
        deadline = time.monotonic() + timeout
        problem = ""
        try:
            while time.monotonic() < deadline:
                for m in self.members:
                    if m.proc is not None and m.proc.poll() is not None:
                        m.proc = None
                        raise NidaaError(f"etcd {m.name} exited: {m.log_path.read_text()[-2000:]}")
                try:
                    client.put(b"/nidaa-harness/health", b"ok")
                    return
                except NidaaError as exc:
                    problem = str(exc)
                    time.sleep(0.1)
        finally:
            client.close()
        raise NidaaError(f"etcd cluster not healthy within {timeout}s: {problem}")

    def kill_member(self, index: int) -> None:
        member = self.members[index]
        if member.proc is None:
            return
        if member.proc.poll() is None:
            os.kill(member.proc.pid, signal.SIGCONT)  # a paused one dies too
            member.proc.kill()
        member.proc.wait()
        member.proc = None

    def signal_member(self, index: int, sig: int) -> None:
        """SIGSTOP / SIGCONT a member: a member that hangs (its clients' requests
        wait, unread, in its sockets)."""
        proc = self.members[index].proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, sig)

    def unread(self, index: int) -> int:
        """The most bytes waiting unread in one of member ``index``'s client
        connections (a request it has not read: it hangs)."""
        port = self.members[index].client_port
        return max((rx for local, _, rx in _tcp() if local == port), default=0)

    def answers_waiting(self, index: int) -> int:
        """The most bytes member ``index`` sent that a client has not read (an
        answer waiting for a paused process)."""
        port = self.members[index].client_port
        return max((rx for _, remote, rx in _tcp() if remote == port), default=0)

    def status(self) -> list[dict[str, Any]]:
        """Each member's ``member_id`` and ``leader`` (empty dict when it does not answer)."""
        from ...master.etcd import Etcd

        found: list[dict[str, Any]] = []
        client = Etcd(self.endpoints, timeout_s=1.0)
        try:
            for i, m in enumerate(self.members):
                try:
                    s = client.call_one(i, "/v3/maintenance/status", {}, 0.5) if m.running else {}
                except NidaaError:
                    s = {}
                found.append({"member_id": s.get("header", {}).get("member_id"),
                              "leader": s.get("leader")})  # fmt: skip
        finally:
            client.close()
        return found

    def leader_index(self) -> int | None:
        ids = self.status()
        leaders = {s["leader"] for s in ids if s["leader"]}
        return next((i for i, s in enumerate(ids) if s["member_id"] in leaders), None)

    def move_leader(self, to: int) -> None:
        """Raft leadership to member ``to`` (etcd's transfer-leadership, sent to the leader)."""
        from ...master.etcd import Etcd

        leader, target = self.leader_index(), self.status()[to]["member_id"]
        if leader is None or target is None or leader == to:
            return
        client = Etcd(self.endpoints, timeout_s=5.0)
        try:
            client.call_one(leader, "/v3/maintenance/transfer-leadership", {"targetID": target})
        finally:
            client.close()

    def close(self) -> None:
        for i in range(len(self.members)):
            self.kill_member(i)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> EtcdCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _tcp() -> list[tuple[int, int, int]]:
    """``(local port, remote port, bytes unread)`` of this machine's established
    IPv4 TCP connections (``/proc/net/tcp``)."""
    found = []
    with open("/proc/net/tcp", encoding="ascii") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] != "01":  # ESTABLISHED
                continue
            rx = int(fields[4].split(":")[1], 16)
            found.append((int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16), rx))
    return found
