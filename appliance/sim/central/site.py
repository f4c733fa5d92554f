"""A centre and its branches on one machine, every part real.

Each branch: its own Mosquitto (bridged over TLS, through a :class:`Link`
the demo can cut, to the central broker, with the credentials `nidaa
provision --central-broker` made for it and the bridge `nidaa provision
--central` wrote), its own master process and SQLite database.  The centre:
the provisioned central Mosquitto, a private PostgreSQL and the consumer
(`nidaa central --config central.toml`) as a process.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...bus.credential import load_credential
from ...central.config import load_central_config
from ...central.web.sessions import new_secret_text
from ...config.branch import Config, load_config
from ...config.example import EXAMPLE_PATH
from ...tech.bridge import (
    CONSUMER_USER,
    CentralBrokerOptions,
    bridge_user,
    provision_bridge,
    provision_central_broker,
)
from ..harness.broker import Mosquitto, free_port
from ..harness.postgres import Postgres
from ..harness.procs import Daemon, wait_until
from .link import Link

#: The columns the centre's copy is compared on (the out folder's CSV
#: keeps the first ones).
COMPARED = ("business_day", "number", "label", "service", "priority", "state", "counter",
            "recalls", "rating")  # fmt: skip


@dataclass
class SiteBranch:
    id: str
    folder: Path
    config_path: Path
    config: Config
    broker: Mosquitto
    link: Link
    master: Daemon

    @property
    def db(self) -> Path:
        return self.folder / "master.db"


def branch_ids(n: int) -> list[str]:
    return [f"branch-{i:02d}" for i in range(1, n + 1)]


_DASHBOARD = "[dashboard]"


class CentralSite:
    """``with CentralSite(folder, ["b1", "b2"]) as site: ...``"""

    def __init__(
        self,
        workdir: Path,
        branches: list[str],
        *,
        source: Path = EXAMPLE_PATH,
        max_queued: dict[str, int] | None = None,
        replay_after_s: float = 1.0,
        consumers: int = 1,
        dashboard_users: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.ids = branches
        self.source = source
        self.max_queued = max_queued or {}
        self.replay_after_s = replay_after_s
        self.n_consumers = consumers
        #: Login name → salted hash: the first consumer serves the dashboard.
        self.dashboard_users = dashboard_users or {}
        self.dashboard_url = ""
        self.branches: dict[str, SiteBranch] = {}
        self.consumers: list[Daemon] = []
        self.pg: Postgres | None = None
        self.central: Mosquitto | None = None

    # -- start -------------------------------------------------------------
    def start(self) -> CentralSite:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        w = self.workdir
        w.mkdir(parents=True, exist_ok=True)
        self.pg = Postgres(w / "postgres").start()
        broker_dir = w / "central-broker"
        tls_port, plain_port = free_port(), free_port()
        self.central_conf = w / "central.toml"
        self._write_central_toml(plain_port)
        cfg = load_central_config(self.central_conf)
        provision_central_broker(
            cfg, CentralBrokerOptions(out=broker_dir, host="localhost", tls_port=tls_port, port=0)
        )
        self.central = Mosquitto(
            broker_dir / "run", port=plain_port, anonymous=False,
            extra_conf=(broker_dir / "nidaa-central.conf").read_text(),
        ).start()  # fmt: skip
        for bid in self.ids:
            self.branches[bid] = self._start_branch(bid, broker_dir, tls_port)
        for i in range(self.n_consumers):
            self.consumers.append(self._consumer(i))

    def _write_central_toml(self, plain_port: int, consumer: str = "central-1") -> None:
        assert self.pg is not None
        creds = self.workdir / "central-broker" / "credentials" / f"{CONSUMER_USER}.toml"
        lines = [
            "[central]",
            f'database = "{self.pg.dsn}"',
            f'consumer = "{consumer}"',
            f"replay_after_s = {self.replay_after_s}",
            "",
            "[broker]",
            f'url = "mqtt://127.0.0.1:{plain_port}"',
            f'credential = "{creds}"',
        ]
        for bid in self.ids:
            lines += ["", "[[branches]]", f'id = "{bid}"']
        if self.dashboard_users:
            port = free_port()
            self.dashboard_url = f"http://127.0.0.1:{port}"
            key = self.workdir / "dashboard.secret"  # sessions outlive a consumer's restart
            if not key.exists():
                key.write_text(new_secret_text())
                key.chmod(0o600)
            lines += ["", _DASHBOARD, f'listen = "127.0.0.1:{port}"', "refresh_s = 0.3",
                      f'session_secret_file = "{key}"']  # fmt: skip
            for name, hashed in self.dashboard_users.items():
                lines += ["[[dashboard.users]]", f'name = "{name}"', f'password_hash = "{hashed}"']
        self.central_conf.write_text("\n".join(lines) + "\n")

    def _start_branch(self, bid: str, broker_dir: Path, tls_port: int) -> SiteBranch:
        folder = self.workdir / "branches" / bid
        folder.mkdir(parents=True, exist_ok=True)
        text = self.source.read_text(encoding="utf-8")
        text = re.sub(r'(?m)^id = "giza-dokki"', f'id = "{bid}"', text, count=1)
        port = free_port()
        text = re.sub(r'(?m)^url = "mqtt://[^"]*"', f'url = "mqtt://127.0.0.1:{port}"', text)
        config_path = folder / "branch.toml"
        config_path.write_text(text, encoding="utf-8")
        config = load_config(config_path)
        link = Link(tls_port)
        cred = load_credential(broker_dir / "credentials" / f"{bridge_user(bid)}.toml")
        provision_bridge(config, folder / "bridge", f"localhost:{link.port}", cred)
        extra = (folder / "bridge" / "bridge.conf").read_text()
        if bid in self.max_queued:
            extra = f"max_queued_messages {self.max_queued[bid]}\n" + extra
        broker = Mosquitto(folder / "broker", port=port, extra_conf=extra).start()
        master = Daemon(
            ["master", "--config", str(config_path), "--db", str(folder / "master.db")],
            folder / "master.log",
        ).start()
        return SiteBranch(bid, folder, config_path, config, broker, link, master)

    def _consumer(self, i: int) -> Daemon:
        conf = self.central_conf
        if i:
            conf = self.workdir / f"central-{i + 1}.toml"
            text = self.central_conf.read_text().replace(
                'consumer = "central-1"', f'consumer = "central-{i + 1}"'
            )
            text = text.split(_DASHBOARD)[0]  # one consumer serves the dashboard
            conf.write_text(text)
        return Daemon(["central", "--config", str(conf)], self.workdir / f"central-{i + 1}.log").start()

    # -- faults --------------------------------------------------------------
    def restart_consumers(self) -> None:
        for c in self.consumers:
            c.restart()

    # -- reading -------------------------------------------------------------
    def branch_tickets(self, bid: str) -> dict[int, tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.branches[bid].db}?mode=ro", uri=True)
        try:
            rows = db.execute(f"SELECT id, {', '.join(COMPARED)} FROM tickets").fetchall()
        finally:
            db.close()
        return {int(r[0]): (r[1], r[2], r[3], r[4], bool(r[5]), *r[6:]) for r in rows}

    def central_tickets(self, bid: str) -> dict[int, tuple[Any, ...]]:
        import psycopg

        assert self.pg is not None
        with psycopg.connect(self.pg.dsn) as conn:
            rows = conn.execute(
                f"SELECT ticket_id, {', '.join(COMPARED)} FROM tickets WHERE branch = %s",
                (bid,),
            ).fetchall()
        return {int(r[0]): (r[1].isoformat(), *r[2:]) for r in rows}

    def compare(self) -> dict[str, int]:
        """Every branch's database against the central copy."""
        total = central = missing = mismatched = 0
        for bid in self.ids:
            mine, theirs = self.branch_tickets(bid), self.central_tickets(bid)
            total += len(mine)
            central += len(theirs)
            missing += sum(1 for tid in mine if tid not in theirs)
            mismatched += sum(1 for tid, row in mine.items() if tid in theirs and theirs[tid] != row)
        return {"tickets_branch_total": total, "tickets_central_total": central,
                "tickets_missing_central": missing, "tickets_mismatched": mismatched}  # fmt: skip

    def converged(self, timeout: float) -> bool:
        def same() -> bool:
            c = self.compare()
            return c["tickets_missing_central"] == 0 and c["tickets_mismatched"] == 0
        return wait_until(same, timeout, interval=0.5)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        assert self.pg is not None
        with psycopg.connect(self.pg.dsn) as conn:
            return list(conn.execute(sql.encode(), params).fetchall())

    # -- stop ----------------------------------------------------------------
    def close(self) -> None:
        for c in self.consumers:
            c.stop()
        for b in self.branches.values():
            b.master.stop()
            b.link.close()
            b.broker.close()
        if self.central is not None:
            self.central.close()
        if self.pg is not None:
            self.pg.close()

    def __enter__(self) -> CentralSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
