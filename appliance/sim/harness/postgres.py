"""Start a private PostgreSQL on a free port, in a temporary folder.

Used by the tests, `nidaa demo --central` and `nidaa bench --central`: none
of them may rely on a server that happens to run on the machine.  The
binaries are Debian's (``/usr/lib/postgresql/<version>/bin``, not on PATH).

``initdb`` and ``postgres`` refuse to run as root, so as root the cluster
belongs to an unprivileged user (``postgres`` when the package made it, else
``nobody``) and its folder is handed to that user.  Authentication is
``trust``, on 127.0.0.1 and the folder's own Unix socket only: a test
instance, never a deployment (docs/central.md says how to run the real one).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ...errors import NidaaError
from .broker import free_port
from .procs import signals_deferred

#: The database and the superuser of a private instance.
DATABASE = "nidaa"
USER = "nidaa"


def find_pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found: list[tuple[int, Path]] = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        match = re.search(r"/(\d+)/bin$", path)
        if match and os.access(Path(path) / "initdb", os.X_OK):
            found.append((int(match.group(1)), Path(path)))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise NidaaError("PostgreSQL is not installed: apt-get install postgresql")


def _run_as() -> pwd.struct_passwd | None:
    """The user the cluster runs as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise NidaaError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")


def _reachable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether every folder above ``path`` lets ``user`` through."""
    for parent in path.resolve().parents:
        st = parent.stat()
        if not (st.st_mode & 0o001 or (st.st_uid == user.pw_uid and st.st_mode & 0o100)):
            return False
    return True


class Postgres:
    """A PostgreSQL cluster of its own: ``start``, ``stop``, ``restart``, ``dsn``.

    The data survives ``stop``/``start`` (a restart of the central store);
    ``close`` removes the folder when this object made it.
    """

    def __init__(self, workdir: str | Path | None = None, *, port: int | None = None) -> None:
        self.user = _run_as()
        self._own_dir = workdir is None or (
            self.user is not None and not _reachable_by(Path(workdir), self.user)
        )
        if self._own_dir:
            # As root, a pytest tmp_path sits under a 0700 folder the
            # cluster's user cannot enter: a fresh folder under /tmp then.
            self.workdir = Path(tempfile.mkdtemp(prefix="nidaa-pg-"))
        else:
            self.workdir = Path(workdir)  # type: ignore[arg-type]
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.bin = find_pg_bin()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.workdir

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={DATABASE}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "postgres.log"

    def _as_user(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _initdb(self) -> None:
        if self.user is not None:
            os.chown(self.workdir, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.workdir, 0o700)
        result = subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True,
            env={**os.environ, "LC_ALL": "C"},
            cwd=self.workdir,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise NidaaError(f"initdb failed: {result.stderr.decode(errors='replace').strip()}")

    def start(self, timeout: float = 30.0) -> Postgres:
        try:
            return self._start(timeout)
        except BaseException:  # Ctrl-C while starting: leave no server behind
            self.stop(kill=True)
            raise

    def _start(self, timeout: float) -> Postgres:
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self._initdb()
        with self.log_path.open("ab") as log, signals_deferred():
            self.proc = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={self.socket_dir}",
                 # A private, throw-away instance on a shared machine: small,
                 # and no fsync (a stop or a kill -9 of the server still
                 # loses nothing the OS holds).
                 "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "shared_buffers=16MB", "-c", "max_connections=40"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                start_new_session=True,
                **self._as_user(),
            )
        self._wait_ready(timeout)
        if fresh:
            self._create_database()
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise NidaaError(f"postgres exited at start: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    return
            except (OSError, psycopg.OperationalError) as e:
                last = e
                time.sleep(0.05)
        raise NidaaError(f"postgres did not answer on port {self.port} within {timeout}s: {last}")

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres"

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: a fast shutdown, or with ``kill`` a kill -9 of
        every process of the cluster (a power cut)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                if kill:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:
                    self.proc.send_signal(signal.SIGINT)  # fast shutdown
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        if kill:
            # The backends outlive a killed postmaster until they notice.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
