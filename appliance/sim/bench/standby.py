"""`nidaa bench --standby`: the master with etcd in every commit's path.

A private three-member etcd cluster, two master candidates (each with its
own database) and one broker.  Each figure is measured beside two floors in
the same run: the plain floor (one MQTT request and response whose responder
makes one durable SQLite commit) and the standby floor (the same, plus one
etcd transaction before answering), so the cost of the standby shows as a
ratio on a shared, noisy machine.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from ...bus.client import BusClient, Message, new_command_id
from ...config.branch import Config, load_config
from ...master.etcd import Etcd, prefix_end, put
from ..figures import percentile_ms
from ..harness import unthrottled
from ..harness.broker import Mosquitto
from ..harness.etcd import EtcdCluster
from ..harness.procs import Daemon, wait_until
from .load import throughput
from .masters import answers
from .run import _DurableEcho, _timed

CANDIDATES = ("master", "master-b")


class _EtcdEcho(_DurableEcho):
    """The floor with one etcd transaction before the answer (as the master's commit)."""

    def __init__(self, config: Config, url: str, db: Path, endpoints: list[str]) -> None:
        self.etcd = Etcd(endpoints)
        self.seq = 0
        super().__init__(config, url, db)

    def stop(self) -> None:
        super().stop()
        self.etcd.close()

    def _answer(self, msg: Message) -> None:
        self.seq += 1
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO echo (body) VALUES (?)", (msg.payload,))
        self.etcd.txn([], [put(b"/nidaa-bench/echo/%020d" % self.seq, msg.payload)])
        self.db.execute("COMMIT")
        self.bus.reply(msg, {"ok": True, "result": {}})


def standby_figures(config_path: Path, samples: int, workdir: Path | None = None) -> dict[str, Any]:
    work = Path(workdir or tempfile.mkdtemp(prefix="nidaa-bench-standby-"))
    work.mkdir(parents=True, exist_ok=True)
    with EtcdCluster(work / "etcd") as cluster, Mosquitto(work / "broker") as broker:
        text = unthrottled(config_path.read_text(encoding="utf-8"))
        ha = {"endpoints": cluster.endpoints, "candidates": list(CANDIDATES)}
        text += "\n[ha]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in ha.items())
        branch = work / "branch.toml"
        branch.write_text(text, encoding="utf-8")
        cfg = load_config(branch)
        masters = [
            Daemon(["master", "--config", str(branch), "--broker", broker.url, "--unit", unit,
                    "--db", str(work / f"{unit}.db")], work / f"{unit}.log").start()
            for unit in CANDIDATES
        ]  # fmt: skip
        echo: _DurableEcho = _DurableEcho(cfg, broker.url, work / "echo.db")
        client = BusClient(cfg, role="tool", unit="bench", broker_url=broker.url, presence=False)
        client.start()
        try:
            assert client.wait_connected(10)
            t = client.topics
            if not wait_until(lambda: answers(client, t.queue_cmd(client.sender, "snapshot")), 30):
                raise RuntimeError("no master answered:\n" + "\n".join(m.log() for m in masters))

            def request(topic: str, **body: Any) -> None:
                client.request(topic, {"id": new_command_id("b"), **body}, timeout=10)

            def floor() -> None:
                request(t.bench_echo)

            _timed(20, floor)  # warm-up
            floor_s = _timed(samples, floor)
            echo.stop()
            echo = _EtcdEcho(cfg, broker.url, work / "echo-etcd.db", cluster.endpoints)
            if not wait_until(lambda: answers(client, t.bench_echo), 10):
                raise RuntimeError("the echo with etcd did not answer")
            etcd_floor_s = _timed(samples, floor)
            issue_s = _timed(
                samples, lambda: request(t.ticket_cmd(client.sender, "issue"), service="A")
            )
            counter = cfg.counters[0].id
            call_s = _timed(
                samples, lambda: request(t.counter_cmd(client.sender, counter, "call-next"))
            )
            result: dict[str, Any] = {
                "standby_floor_plain_ms": percentile_ms(floor_s, 50),
                "standby_floor_ms": percentile_ms(etcd_floor_s, 50),
                "standby_floor_p99_ms": percentile_ms(etcd_floor_s, 99),
                "standby_issue_p50_ms": percentile_ms(issue_s, 50),
                "standby_issue_p99_ms": percentile_ms(issue_s, 99),
                "standby_call_p50_ms": percentile_ms(call_s, 50),
                "standby_call_p99_ms": percentile_ms(call_s, 99),
            }
            result["standby_issue_over_floor"] = round(
                result["standby_issue_p50_ms"] / result["standby_floor_ms"], 2
            )
            result["standby_tickets_per_s"] = throughput(
                cfg, broker.url, clients=8, per_client=max(5, samples // 4)
            )
            result["standby_lag_at_end"] = _lag(cfg, cluster.endpoints)
        finally:
            client.stop()
            echo.stop()
            for m in masters:
                m.stop()
    return result


def _lag(cfg: Config, endpoints: list[str]) -> int:
    """Entries the standby is behind once the load stopped (it follows every 0.2 s)."""
    etcd = Etcd(endpoints)
    prefix = f"/nidaa/{cfg.branch.id}/pos/".encode()

    def lag() -> int:
        _, kvs = etcd.range(prefix, prefix_end(prefix))
        positions = [int(kv.value) for kv in kvs]
        return max(positions) - min(positions) if len(positions) == len(CANDIDATES) else -1

    try:
        wait_until(lambda: lag() == 0, 5, 0.1)
        return lag()
    finally:
        etcd.close()
