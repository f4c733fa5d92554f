"""Priority policies and the waiting estimate, one rule at a time."""

from __future__ import annotations

import pytest

from appliance.errors import QueueError
from appliance.queue import Estimate, QueueEngine
from tests.support.engine import MORNING, counters, make_engine, service


def one_counter(priority_window: bool = False, **policy: object) -> QueueEngine:
    return make_engine(counter_list=counters(("c", ["building"], priority_window)), **policy)


def fill(engine: QueueEngine, pattern: str, start: float = MORNING) -> None:
    """Issue tickets in order: 'r' regular, 'p' priority, one second apart."""
    for i, kind in enumerate(pattern):
        engine.issue("A", kind == "p", start + i)


def calls(engine: QueueEngine, n: int, counter: str = "c", at: float = MORNING + 1000) -> str:
    """Call ``n`` times; the classes called as a string ('p'/'r'/'-' for nobody)."""
    out = ""
    for i in range(n):
        ticket, _ = engine.call_next(counter, at + i)
        out += "-" if ticket is None else "p" if ticket.priority else "r"
    return out


def test_strict_calls_priority_first_even_when_younger() -> None:
    engine = one_counter(others="strict")
    fill(engine, "rrrpp")
    assert calls(engine, 6) == "pprrr-"


def test_ratio_calls_one_priority_after_n_regular() -> None:
    engine = one_counter(others="ratio", ratio=2)
    fill(engine, "pppprrrrrr")
    assert calls(engine, 11) == "rrprrprrpp-"


def test_ratio_streak_carries_over_while_no_priority_waits() -> None:
    engine = one_counter(others="ratio", ratio=2)
    fill(engine, "rrrrr")
    assert calls(engine, 3) == "rrr"
    fill(engine, "p", start=MORNING + 500)
    # Three regular calls already: the newcomer goes first.
    assert calls(engine, 2, at=MORNING + 2000) == "pr"
    assert engine.counter_state("c").regular_streak == 1


def test_ratio_calls_priority_when_no_regular_waits() -> None:
    engine = one_counter(others="ratio", ratio=5)
    fill(engine, "pp")
    assert calls(engine, 3) == "pp-"


def test_never_leaves_priority_to_the_priority_window() -> None:
    engine = make_engine(
        counter_list=counters(("c", ["building"], False), ("pw", ["building"], True)),
        others="never",
    )
    fill(engine, "prp")
    assert calls(engine, 2) == "r-"
    assert calls(engine, 3, counter="pw") == "pp-"


@pytest.mark.parametrize(("serves_regular", "expected"), [(True, "pprr-"), (False, "pp-")])
def test_priority_window_takes_priority_then_regular_by_configuration(
    serves_regular: bool, expected: str
) -> None:
    engine = one_counter(priority_window=True, priority_window_serves_regular=serves_regular)
    fill(engine, "rprp")
    assert calls(engine, len(expected)) == expected


def test_fifo_by_issue_time_across_a_counters_services() -> None:
    engine = make_engine(counter_list=counters(("c", ["building", "vehicles"], False)))
    b = engine.issue("B", False, MORNING)
    a = engine.issue("A", False, MORNING + 1)
    b2 = engine.issue("B", False, MORNING + 1)  # same second: lower id first
    called = [engine.call_next("c", MORNING + 10 + i)[0] for i in range(3)]
    assert called == [b, a, b2]


def test_counter_calls_only_its_services() -> None:
    engine = make_engine()
    engine.issue("B", False, MORNING)
    assert engine.call_next("c1", MORNING + 1) == (None, None)
    assert engine.counter_state("c1").open


# -- estimate ---------------------------------------------------------------------
def test_estimate_uses_configured_minutes_and_configured_counters_before_opening() -> None:
    engine = make_engine(services=[service("building", "A", minutes=6)])
    fill(engine, "rrrp")
    # 3 counters serve building, none open yet.
    assert engine.estimate("A") == Estimate(4, 4 * 6 / 3)
    assert engine.estimate("A", priority=True) == Estimate(1, 1 * 6 / 3)


def test_estimate_uses_recent_service_times_and_open_counters() -> None:
    engine = make_engine(estimate_samples=2)
    fill(engine, "rrrrrr")
    engine.call_next("c1", MORNING + 100)
    engine.call_next("c1", MORNING + 160)  # 60 s
    engine.call_next("c1", MORNING + 400)  # 240 s
    engine.call_next("c1", MORNING + 460)  # 60 s; only the last 2 count
    assert engine.state.service_times["building"] == [240.0, 60.0]
    assert engine.open_counters("A") == ["c1"]
    # 2 waiting, mean 2.5 min, one open counter.
    assert engine.estimate("A") == Estimate(2, 5.0)
    engine.call_next("c2", MORNING + 470)
    assert engine.estimate("A") == Estimate(1, 2.5 / 2)


def test_estimate_for_a_waiting_ticket_counts_those_called_before_it() -> None:
    engine = make_engine(counter_list=counters(("c", ["building"], False)))
    fill(engine, "rrp")
    regular_second, priority = engine.waiting("A")[2], engine.waiting("A")[0]
    assert engine.estimate_for(priority.id) == Estimate(0, 0.0)
    assert engine.estimate_for(regular_second.id) == Estimate(2, 10.0)
    engine.call_next("c", MORNING + 10)
    with pytest.raises(QueueError) as exc:
        engine.estimate_for(priority.id)
    assert exc.value.code == "illegal_transition"


def test_estimate_is_none_only_without_any_counter() -> None:
    engine = make_engine(counter_list=counters(("c", ["building"], False)))
    engine.issue("B", False, MORNING)
    assert engine.estimate("B") == Estimate(1, None)
