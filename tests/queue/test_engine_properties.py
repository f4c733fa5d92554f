"""Property tests: random branches driven by random sequences of operations.

A hypothesis state machine draws a configuration (services with small number
ranges so that wrapping and exhaustion happen, counters, a priority policy),
then applies random operations — valid ones and ones that must fail — and
checks after every step:

- a raising operation leaves the state equal (deep compare) to before and
  reports no changes; every row that differs after a successful one is listed
  in ``Changes``;
- numbering: a number is only skipped when a ticket in the queue holds it, it
  wraps only past the end of the range, ``range_exhausted`` only when every
  number is held, and no two tickets in the queue share a label;
- each call takes the oldest ticket of its class (FIFO by issue time) in the
  class the counter's policy prescribes;
- every waiting ticket is eventually called while an unpaused counter that
  may serve it keeps calling.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from appliance.config import Branch, Counter, Policy
from appliance.queue import QueueEngine
from tests.support.engine import BRANCH, CAIRO, MORNING, service
from tests.support.queue_machine import HOUR, PICK, QueueMachine, policies

QueueMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=60, deadline=None)
TestQueueMachine = QueueMachine.TestCase


@settings(max_examples=30, deadline=None)
@given(flags=st.lists(st.booleans(), min_size=1, max_size=400))
def test_no_number_issued_twice_in_a_day_before_the_range_wraps(flags: list[bool]) -> None:
    engine = QueueEngine(BRANCH, [service("s", "S", first=1, last=400)], [], Policy())
    labels = [engine.issue("S", prio, MORNING + i).label for i, prio in enumerate(flags)]
    n = len(flags)
    assert len(set(labels)) == n
    assert labels[0] == "S001" and labels[-1] == f"S{n:03d}"


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
    reset=st.integers(0, 23),
)
def test_business_day_turns_at_the_reset_hour_in_cairo(when: datetime, reset: int) -> None:
    local = when.replace(tzinfo=CAIRO)
    # Skip wall times that do not exist or exist twice around a DST change.
    assume(datetime.fromtimestamp(local.timestamp(), CAIRO).replace(tzinfo=None) == when)
    assume(when.replace(fold=1).replace(tzinfo=CAIRO).utcoffset() == local.utcoffset())
    branch = Branch(id="b", name_ar="ب", timezone="Africa/Cairo", day_reset_hour=reset)
    engine = QueueEngine(branch, [], [], Policy())
    expected = when.date() if when.hour >= reset else when.date() - timedelta(days=1)
    assert engine.business_day(local.timestamp()) == expected.isoformat()


#: A busy branch for long runs: three services, a priority window, overlaps.
BUSY_SERVICES = [
    service("building", "A", first=1, last=6),
    service("vehicles", "B", first=1, last=4),
    service("civil", "C", first=0, last=999),
]
BUSY_COUNTERS = [
    Counter(id="pw", number=1, services=["building", "vehicles", "civil"], priority=True),
    Counter(id="c1", number=2, services=["building"]),
    Counter(id="c2", number=3, services=["building", "vehicles"]),
    Counter(id="c3", number=4, services=["civil"]),
]
OPS = {
    "issue": lambda m, a, b, flag: m.issue(a, flag),
    "call": lambda m, a, b, flag: m.call_next(a),
    "recall": lambda m, a, b, flag: m.recall(a),
    "finish": lambda m, a, b, flag: m.finish(a, "done" if flag else "no_show"),
    "pause": lambda m, a, b, flag: m.pause_or_resume(a, "pause" if flag else "resume"),
    "transfer": lambda m, a, b, flag: m.transfer(a, b),
    "void": lambda m, a, b, flag: m.void(a, "printer"),
    "feedback": lambda m, a, b, flag: m.feedback(a, "satisfied" if flag else "meh"),
    "tick": lambda m, a, b, flag: m.tick([1, 30, 300, 3 * HOUR, 20 * HOUR][a % 5]),
    "restart": lambda m, a, b, flag: m.restart(),
}


@settings(max_examples=80, deadline=None)
@given(
    policy=policies,
    ops=st.lists(
        st.tuples(
            # Weighted towards the steps of a normal morning.
            st.sampled_from(["issue"] * 4 + ["call"] * 3 + ["finish"] * 2 + list(OPS)),
            PICK,
            PICK,
            st.booleans(),
        ),
        min_size=40,
        max_size=120,
    ),
)
def test_long_random_days_in_a_busy_branch(
    policy: Policy, ops: list[tuple[str, int, int, bool]]
) -> None:
    machine = QueueMachine()
    machine.start((BUSY_SERVICES, BUSY_COUNTERS, policy))
    for name, a, b, flag in ops:
        OPS[name](machine, a, b, flag)
        machine.labels_unique_and_counters_consistent()
        machine.estimates_count_the_waiting()
    machine.every_waiting_ticket_is_eventually_called()


@pytest.mark.parametrize("zone", ["Africa/Cairo", "Asia/Kathmandu", "Australia/Adelaide"])
def test_business_day_of_one_engine_over_time_matches_a_fresh_count(zone: str) -> None:
    """One engine asked again and again (it remembers the last day it worked
    out), across summer-time changes and in zones a quarter or half an hour
    off the hour, answers as a fresh count: every 7 minutes for 10 days,
    going back an hour now and then."""
    tz = ZoneInfo(zone)
    for reset in (0, 5):
        branch = Branch(id="b", name_ar="ب", timezone=zone, day_reset_hour=reset)
        engine = QueueEngine(branch, [], [], Policy())
        now = datetime(2024, 3, 28, tzinfo=tz).timestamp()  # Cairo's, Adelaide's changes follow
        for i in range(10 * 24 * 60 // 7):
            now += -3600 if i % 97 == 0 else 420
            local = datetime.fromtimestamp(now, tz).replace(tzinfo=None)
            expected = (local - timedelta(hours=reset)).date().isoformat()
            assert engine.business_day(now) == expected
