"""Fuzzing the master's command handling and the configuration loader.

The master is driven in-process (its network client never connects) so that
hypothesis can try thousands of payloads; after every run the in-memory
queue must equal what a fresh master loads from the database: nothing
half-written, nothing applied without being committed.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import Config, load_config
from appliance.config.schema import load
from appliance.errors import ConfigError
from tests.support import EXAMPLE_CONFIG
from tests.support.master import OfflineMaster

CONFIG = load_config(EXAMPLE_CONFIG)
T = Topics(CONFIG.branch.id)
U = "fuzz"  # no unit of the branch: a tool on an open broker
NOW = 1796032800.0  # 2026-11-30 10:00 Cairo

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["A", "B", "building", "w1", "w2", "", "‮A", "أ", "\x00", "🙂" * 30]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
command_topics = st.sampled_from(
    [T.ticket_cmd(U, "issue"), T.ticket_cmd(U, "void"), T.queue_cmd(U, "snapshot"), T.ticket_cmd(U, "x")]
    + [T.counter_cmd(U, c, a) for c in ("w1", "w2", "w5", "zz") for a in
       ("call-next", "recall", "no-show", "done", "transfer", "pause", "resume", "feedback")]
)  # fmt: skip
ids = st.sampled_from(["p1", "p2", "p3", "p4"]) | st.text(min_size=1, max_size=10)
plausible = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "service": st.sampled_from(["A", "B", "C", "E", "inquiries", "Z", ""]) | json_scalars,
        "priority": st.booleans() | json_scalars,
        "ticket_id": st.integers(min_value=-2, max_value=12) | json_scalars,
        "reason": st.text(max_size=10) | json_scalars,
        "rating": st.sampled_from(["satisfied", "neutral", "unsatisfied", "meh"]),
    },
)
payloads = st.one_of(
    plausible.map(lambda d: json.dumps(d, allow_nan=True).encode()),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.binary(max_size=64),
    st.just(b"{" * 5000),
    st.just(json.dumps({"id": "big", "service": "A" * 70_000}).encode()),
)


class RecordingMaster(OfflineMaster):
    """The real master, with its answers kept instead of published."""

    def __init__(self, db: Path) -> None:
        super().__init__(CONFIG, db, NOW)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(command_topics, payloads, st.floats(0, 900)), min_size=1, max_size=40))
def test_no_command_sequence_crashes_or_half_writes(
    tmp_path_factory: Any, commands: list[tuple[str, bytes, float]]
) -> None:
    db = tmp_path_factory.mktemp("fuzz") / "master.db"
    master = RecordingMaster(db)
    for topic, payload, step in commands:
        master.now += step
        reply = T.reply(U, "fuzz")
        master.handle(Message(topic=topic, payload=payload, response_topic=reply, correlation=b"c"))
    assert len(master.answers) == len(commands), "every command gets exactly one answer"
    for answer in master.answers:
        assert isinstance(answer["ok"], bool)
        if not answer["ok"]:
            assert answer["error"]["code"] and answer["error"]["message"]
    live = master.engine.state
    master.store.close()

    fresh = RecordingMaster(db)
    loaded = fresh.engine.state
    assert {k: asdict(v) for k, v in loaded.tickets.items()} == {
        k: asdict(v) for k, v in live.tickets.items()
    }
    assert {k: asdict(v) for k, v in loaded.counters.items()} == {
        k: asdict(v) for k, v in live.counters.items()
    }
    assert loaded.sequences == live.sequences
    fresh.store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dup = conn.execute(
            "SELECT business_day, label, COUNT(*) FROM tickets WHERE origin_id IS NULL "
            "GROUP BY business_day, label HAVING COUNT(*) > 1"
        ).fetchall()
    assert dup == [], f"a number was issued twice: {dup}"


EXAMPLE_RAW = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def _mutate(raw: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(raw, dict) and raw:
        k = list(raw)[key % len(raw)]
        return {**raw, k: _mutate(raw[k], rest, value)}
    if isinstance(raw, list) and raw:
        i = key % len(raw)
        return [*raw[:i], _mutate(raw[i], rest, value), *raw[i + 1 :]]
    return value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=4), json_values)
def test_config_loader_reports_instead_of_crashing(path: list[int], value: Any) -> None:
    raw = _mutate(EXAMPLE_RAW, path, value)
    try:
        cfg = load(Config, raw)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and m for p, m in exc.problems)
    else:
        assert cfg.services and cfg.counters


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_config_loader_on_arbitrary_documents(value: Any) -> None:
    try:
        load(Config, value)
    except ConfigError as exc:
        assert exc.problems
