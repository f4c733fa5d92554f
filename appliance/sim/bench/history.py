"""`nidaa bench --history N`: the master's cost with months of tickets kept.

A branch keeps its history: N past tickets (about 300 a day, some of them
transferred, each with its command id for the last week and an SMS request
for one in ten over the retention) are written into a fresh database, and
the master's issue and call-next are timed against it and, in the same run
and the same way, against an empty database.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ...bus.client import BusClient, new_command_id
from ...config.branch import Config
from ...master.store import TICKET_COLUMNS, Store
from ..figures import percentile
from .masters import start_master, wait_answering

PER_DAY = 300


def fill_history(db: Path, cfg: Config, tickets: int, now: float | None = None) -> None:
    """Write ``tickets`` finished tickets of past days into the master's database."""
    now = time.time() if now is None else now
    store = Store(db)
    services = [(s.id, s.prefix) for s in cfg.services]
    counters = [c.id for c in cfg.counters]
    rows: list[tuple[Any, ...]] = []
    commands: list[tuple[Any, ...]] = []
    requests: list[tuple[Any, ...]] = []
    sequences: dict[tuple[str, str], int] = {}
    for i in range(tickets):
        day_back = 3 + i // PER_DAY  # the last two days (the live window) stay empty
        at = now - day_back * 86400 + (i % PER_DAY) * 60
        day = time.strftime("%Y-%m-%d", time.gmtime(at))
        sid, prefix = services[i % len(services)]
        number = sequences[(day, sid)] = sequences.get((day, sid), 0) + 1
        tid = i + 1
        transferred = i % 20 == 1  # its successor names it as origin
        origin = tid - 1 if i % 20 == 2 else None
        state = "transferred" if transferred else ("served" if i % 7 else "no_show")
        values = {
            "id": tid, "number": number, "label": f"{prefix}{number:03d}", "service": sid,
            "priority": int(i % 9 == 0), "business_day": day, "issued_at": at, "state": state,
            "called_at": at + 300, "first_called_at": at + 300, "served_at": at + 320,
            "finished_at": at + 900, "counter": counters[i % len(counters)], "recalls": 0,
            "origin_id": origin, "reason": None, "rating": "satisfied" if i % 3 == 0 else None,
        }  # fmt: skip
        rows.append(tuple(values[c] for c in TICKET_COLUMNS))
        if day_back <= 7:
            answer = json.dumps({"ok": True, "result": {"ticket": {"id": tid}}})
            commands.append((f"hist-{tid}", "ticket/issue", answer, at, None, "k1", tid))
        if i % 10 == 0 and day_back <= 30:
            requests.append((f"H{tid}", tid, values["label"], "+201000000000", "completed", at, at))
    marks = ", ".join("?" * len(TICKET_COLUMNS))
    with store.transaction() as db_:
        db_.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({marks})", rows)
        db_.executemany(
            "INSERT INTO sequences (business_day, service, last) VALUES (?, ?, ?)",
            [(d, s, n) for (d, s), n in sequences.items()],
        )
        db_.executemany(
            "INSERT INTO commands (id, action, response, applied_at, digest, requester,"
            " ticket_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            commands,
        )
        db_.executemany(
            "INSERT INTO sms_requests (ref, ticket_id, ticket, phone, stage, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            requests,
        )
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def _issue_and_call(
    cfg: Config, config_path: Path, url: str, db: Path, samples: int, log: Path
) -> tuple[float, float]:
    """Issue and call-next p50 (ms) of a master started on ``db``."""
    master = start_master(config_path, url, db, log)
    client = BusClient(cfg, role="tool", unit="bench-history", broker_url=url, presence=False)
    client.start()
    t = client.topics
    try:
        wait_answering(client, master)

        def ask(topic: str, **body: Any) -> None:
            client.request(topic, {"id": new_command_id("h"), **body}, timeout=5)

        service = cfg.services[0].id
        counters = [c.id for c in cfg.counters if service in c.services]
        issue, call = [], []
        for _ in range(samples):
            t0 = time.perf_counter()
            ask(t.ticket_cmd(client.sender, "issue"), service=service)
            issue.append(time.perf_counter() - t0)
        for n in range(samples):
            t0 = time.perf_counter()
            ask(t.counter_cmd(client.sender, counters[n % len(counters)], "call-next"))
            call.append(time.perf_counter() - t0)
    finally:
        client.stop()
        master.stop()
    ms = [round(percentile([x * 1000 for x in s], 50), 3) for s in (issue, call)]
    return ms[0], ms[1]


def history_figures(
    cfg: Config, config_path: Path, url: str, work: Path, samples: int, tickets: int
) -> dict[str, float]:
    """Issue and call-next p50 on an empty database and on one with ``tickets``."""
    empty_db, full_db = work / "history-empty.db", work / "history-full.db"
    fill_history(full_db, cfg, tickets)
    empty = _issue_and_call(cfg, config_path, url, empty_db, samples, work / "h-empty.log")
    full = _issue_and_call(cfg, config_path, url, full_db, samples, work / "h-full.log")
    return {
        "history_tickets": tickets,
        "history_empty_issue_p50_ms": empty[0],
        "history_empty_call_p50_ms": empty[1],
        "history_issue_p50_ms": full[0],
        "history_call_p50_ms": full[1],
        "history_issue_ratio": round(full[0] / empty[0], 2),
        "history_call_ratio": round(full[1] / empty[1], 2),
    }
