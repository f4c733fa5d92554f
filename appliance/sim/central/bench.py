"""`nidaa bench --central`: how many busy branches one central consumer
keeps up with.

A busy branch takes one ticket every 10 s; each ticket changes four times
(issued, called, served, rated) and the master publishes its head after
each change: 0.8 messages a second per branch, as its bridge would carry
them.  Simulated branches publish exactly that to a central Mosquitto (the
publisher stands in for the bridges); one real consumer process (`nidaa
central`) writes to a private PostgreSQL.  The number of branches doubles
step by step; each step's lag is when PostgreSQL received a change minus
when the branch made it, read back from the `events` table.  The figure is
the largest step whose p99 lag stays under 2 s.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ...bus.topics import CentralTopics
from ..harness.broker import Mosquitto
from ..harness.postgres import Postgres
from ..harness.procs import Daemon, wait_until

TICKET_EVERY_S = 10.0
KINDS = (("issue", "waiting"), ("call", "called"), ("serve", "served"), ("rating", "served"))
LAG_GOAL_S = 2.0


class Branches(threading.Thread):
    """``n`` busy branches publishing their changes and heads."""

    def __init__(self, client: mqtt.Client, n: int, first: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.client, self.seconds = client, seconds
        rng = random.Random(n)
        # Each branch: its topics, next number, next ticket id and the phase of its ticket.
        self.branches = [
            (CentralTopics(f"bench-{first + i:04d}"), rng.uniform(0, TICKET_EVERY_S))
            for i in range(n)
        ]
        self.seq = {t.branch: 0 for t, _ in self.branches}
        self.sent = 0

    def run(self) -> None:
        start = time.time()
        step = TICKET_EVERY_S / len(KINDS)
        due: list[tuple[float, int, int]] = []  # (when, branch index, change index)
        for i, (_, phase) in enumerate(self.branches):
            t = start + phase
            while t < start + self.seconds:
                due += [(t + k * step, i, k) for k in range(len(KINDS))]
                t += TICKET_EVERY_S
        due.sort()
        for when, i, k in due:
            delay = when - time.time()
            if delay > 0:
                time.sleep(delay)
            self._change(i, k)

    def _change(self, i: int, k: int) -> None:
        topics, _ = self.branches[i]
        self.seq[topics.branch] += 1
        seq = self.seq[topics.branch]
        now = time.time()
        kind, state = KINDS[k]
        ticket = {"id": seq // 4 + 1, "number": seq // 4 + 1, "label": f"A{seq // 4 + 1:03d}",
                  "service": "building", "priority": False,
                  "business_day": time.strftime("%Y-%m-%d"), "state": state,
                  "issued_at": now, "first_called_at": None, "called_at": None,
                  "served_at": None, "finished_at": None, "counter": "w1", "recalls": 0,
                  "rating": "satisfied" if kind == "rating" else None}  # fmt: skip
        body = {"seq": seq, "kind": kind, "at": now, "ticket": ticket}
        self.client.publish(topics.sync("change"), json.dumps(body), qos=1)
        self.client.publish(topics.sync("head"), json.dumps({"seq": seq, "at": now}), qos=1,
                            retain=True)  # fmt: skip
        self.sent += 2


def run_central_bench(
    workdir: Path,
    steps: tuple[int, ...] = (25, 50, 100, 200, 400, 800),
    step_s: float = 30.0,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    with Postgres(workdir / "postgres") as pg, Mosquitto(workdir / "broker") as broker:
        conf = workdir / "central.toml"
        conf.write_text(f'[central]\ndatabase = "{pg.dsn}"\nreplay_after_s = 5.0\n'
                        f'[broker]\nurl = "{broker.url}"\n')  # fmt: skip
        consumer = Daemon(["central", "--config", str(conf)], workdir / "central.log").start()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-branches",
                             protocol=mqtt.MQTTv5)  # fmt: skip
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(1000)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        try:
            wait_until(lambda: "connected" in consumer.log(), 20)
            first = 0
            for n in steps:
                log(f"{n} branches for {step_s:.0f} s")
                mark = time.time()
                gen = Branches(client, n, first, step_s)
                first += n
                gen.start()
                gen.join()
                expected = sum(gen.seq.values())
                wait_until(lambda e=expected, m=mark: _received(pg, m) >= e, 60)
                row = _lags(pg, mark)
                step = {"branches": n, "messages_per_s": round(gen.sent / step_s, 1),
                        "changes": expected, "received": row[0],
                        "lag_p50_s": row[1], "lag_p99_s": row[2],
                        "kept_up": row[0] == expected and row[2] is not None
                        and row[2] < LAG_GOAL_S}  # fmt: skip
                log(f"  p50 {step['lag_p50_s']} s, p99 {step['lag_p99_s']} s, "
                    f"{step['received']}/{expected} changes")  # fmt: skip
                results.append(step)
                if not step["kept_up"]:
                    break
        finally:
            client.loop_stop()
            client.disconnect()
            consumer.stop()
    kept = [s["branches"] for s in results if s["kept_up"]]
    return {
        "central_branches_kept_up": max(kept) if kept else 0,
        "central_ticket_every_s": TICKET_EVERY_S,
        "central_lag_goal_s": LAG_GOAL_S,
        "central_steps": results,
    }


def _received(pg: Postgres, since: float) -> int:
    import psycopg

    with psycopg.connect(pg.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE at >= to_timestamp(%s)", (since,))
        return int(row.fetchone()[0])  # type: ignore[index]


def _lags(pg: Postgres, since: float) -> tuple[int, float | None, float | None]:
    import psycopg

    with psycopg.connect(pg.dsn) as conn:
        row = conn.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) FROM"
            " (SELECT extract(epoch FROM received_at - at) AS lag FROM events"
            "  WHERE at >= to_timestamp(%s)) x",
            (since,),
        ).fetchone()
    assert row is not None
    return int(row[0]), _round(row[1]), _round(row[2])


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
