"""`nidaa bench`: latency and throughput, as ratios measured in one run.

The machine may be shared and noisy, so each figure is reported beside a
floor measured in the same run on the same broker: one raw MQTT request and
response whose responder makes one durable SQLite commit before answering.
The target for the master is ``issue_p50_ms`` within 3 × ``floor_ms``.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...bus.client import BusClient, Message, new_command_id
from ...config.branch import Config, load_config
from ..figures import percentile_ms, rss_mb
from ..harness import unthrottled
from ..harness.broker import Mosquitto
from ..hooks import BenchContext
from .cpu import process_cpu_ms
from .load import burst, throughput
from .masters import start_master, wait_answering


def _bench_hooks(day_tickets: int = 0) -> list[Callable[[BenchContext], dict[str, float]]]:
    """Each role's measurement (:class:`~appliance.sim.hooks.RoleSim`), named
    figures to add to the result.  With ``day_tickets`` a busy day of that
    many tickets (12 counters) runs last (``nidaa bench --day``: a few minutes
    more, so not by default)."""
    from ..roles import ROLES
    from .cpu import bench_cpu

    hooks: list[Callable[[BenchContext], dict[str, float]]] = [role.bench for role in ROLES]
    hooks.append(bench_cpu)
    if day_tickets > 0:
        from .day import bench_day

        hooks.append(lambda ctx: bench_day(ctx, tickets=day_tickets, counters=12))
    return hooks


class _DurableEcho:
    """Answers each request after one durable SQLite commit: the floor."""

    def __init__(self, config: Config, url: str, db: Path) -> None:
        self.db = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS echo (id INTEGER PRIMARY KEY, body BLOB)")
        self.bus = BusClient(config, role="tool", unit="bench-echo", broker_url=url, presence=False)
        self.bus.subscribe(self.bus.topics.bench_echo, self._answer)
        self.bus.start()
        self.bus.wait_connected(10)

    def _answer(self, msg: Message) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO echo (body) VALUES (?)", (msg.payload,))
        self.db.execute("COMMIT")
        self.bus.reply(msg, {"ok": True, "result": {}})

    def stop(self) -> None:
        self.bus.stop()
        self.db.close()


def _timed(n: int, op: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        op()
        out.append(time.perf_counter() - t0)
    return out


def run_bench(
    config_path: Path,
    *,
    samples: int = 300,
    workdir: Path | None = None,
    day_tickets: int = 0,
    history: int = 0,
) -> dict[str, Any]:
    work = Path(workdir or tempfile.mkdtemp(prefix="nidaa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    branch = work / "branch.toml"
    branch.write_text(unthrottled(config_path.read_text(encoding="utf-8")), encoding="utf-8")
    config_path = branch
    cfg = load_config(config_path)
    result: dict[str, Any] = {"samples": samples}
    with Mosquitto(work / "broker") as broker:
        master = start_master(config_path, broker.url, work / "master.db", work / "master.log")
        echo = _DurableEcho(cfg, broker.url, work / "echo.db")
        client = BusClient(cfg, role="tool", unit="bench", broker_url=broker.url, presence=False)
        client.start()
        try:
            t = client.topics
            wait_answering(client, master)

            def floor() -> None:
                client.request(t.bench_echo, {"id": new_command_id("b")}, timeout=5)

            def issue() -> None:
                client.request(
                    t.ticket_cmd(client.sender, "issue"),
                    {"id": new_command_id("b"), "service": "A"},
                    timeout=5,
                )

            counters = [c.id for c in cfg.counters if cfg.services[0].id in c.services]

            def call() -> None:
                cid = counters[call.n % len(counters)]  # type: ignore[attr-defined]
                call.n += 1  # type: ignore[attr-defined]
                client.request(
                    t.counter_cmd(client.sender, cid, "call-next"),
                    {"id": new_command_id("b")},
                    timeout=5,
                )

            call.n = 0  # type: ignore[attr-defined]
            _timed(20, floor)  # warm-up
            floor_s = _timed(samples, floor)
            master_cpu = process_cpu_ms(master.pid)
            issue_s = _timed(samples, issue)
            call_s = _timed(samples, call)
            result.update(
                floor_ms=percentile_ms(floor_s, 50),
                floor_p99_ms=percentile_ms(floor_s, 99),
                issue_p50_ms=percentile_ms(issue_s, 50),
                issue_p99_ms=percentile_ms(issue_s, 99),
                call_p50_ms=percentile_ms(call_s, 50),
                call_p99_ms=percentile_ms(call_s, 99),
            )
            result["issue_over_floor"] = round(result["issue_p50_ms"] / result["floor_ms"], 2)
            result["tickets_per_s"] = throughput(
                cfg, broker.url, clients=8, per_client=samples // 4
            )
            commands = 2 * samples + 8 * (samples // 4)
            cpu = {"master": round((process_cpu_ms(master.pid) - master_cpu) / commands, 3)}
            rss = {"master": rss_mb(master.pid)}
            ctx = BenchContext(cfg, config_path, broker.url, work, samples)
            for hook in _bench_hooks(day_tickets):
                for key, value in hook(ctx).items():
                    if key.startswith("cpu_ms_per_ticket_"):
                        cpu[key.removeprefix("cpu_ms_per_ticket_")] = value
                    elif key.startswith("rss_mb_"):
                        rss[key.removeprefix("rss_mb_")] = value
                    elif key.endswith("_rss_mb"):
                        rss[key.removesuffix("_rss_mb")] = value
                    else:
                        result[key] = value
            result["rss_mb"] = rss
            result["cpu_ms_per_ticket"] = cpu
        finally:
            client.stop()
            echo.stop()
            master.stop()
        result.update(burst(cfg, config_path, broker.url, work / "burst", 6 * samples))
        if history:
            from .history import history_figures

            result.update(history_figures(cfg, config_path, broker.url, work, samples, history))
    return result
