"""Focused tests of the queue engine: numbering, calls, recalls, transfers, errors."""

from __future__ import annotations

import copy

import pytest

from appliance.errors import QueueError
from appliance.queue import EngineState, QueueEngine, TicketState
from tests.support.engine import (
    BRANCH,
    MORNING,
    SERVICES,
    cairo,
    counters,
    make_engine,
    service,
)


def codes(exc: pytest.ExceptionInfo[QueueError]) -> str:
    return exc.value.code


# -- numbering ------------------------------------------------------------------
def test_numbers_start_at_first_and_labels_are_padded() -> None:
    engine = make_engine()
    a1 = engine.issue("building", False, MORNING)
    a2 = engine.issue("A", True, MORNING + 1)
    b1 = engine.issue("b", False, MORNING + 2)
    assert [(t.label, t.number, t.service) for t in (a1, a2, b1)] == [
        ("A001", 1, "building"),
        ("A002", 2, "building"),
        ("B001", 1, "vehicles"),
    ]
    assert [t.id for t in (a1, a2, b1)] == [1, 2, 3]
    assert a2.priority and a1.business_day == "2026-11-30"
    assert a1.state is TicketState.WAITING


def test_four_digit_labels_when_the_range_needs_them() -> None:
    engine = make_engine(services=[service("big", "C", first=998, last=1200)], counter_list=[])
    assert [engine.issue("C", False, MORNING).label for _ in range(3)] == [
        "C0998",
        "C0999",
        "C1000",
    ]


def test_numbers_wrap_and_skip_numbers_still_in_the_queue() -> None:
    engine = make_engine(
        services=[service("s", "S", first=1, last=3)],
        counter_list=counters(("c", ["s"], False)),
    )
    s1, s2, s3 = (engine.issue("s", False, MORNING + i) for i in range(3))
    engine.call_next("c", MORNING + 10)  # S001 called: still held
    engine.void(s2.id, "printer", MORNING + 11)  # S002 freed
    again = engine.issue("s", False, MORNING + 12)  # wraps: S001 held, S002 free
    assert again.label == "S002" and again.id != s2.id
    with pytest.raises(QueueError) as exc:
        engine.issue("s", False, MORNING + 13)  # S003, S001, S002 all held
    assert codes(exc) == "range_exhausted"
    assert [t.label for t in engine.waiting("s")] == ["S003", "S002"]
    assert s1.state is TicketState.CALLED and s3.state is TicketState.WAITING


def test_day_resets_at_four_in_cairo() -> None:
    engine = make_engine()
    evening = engine.issue("A", False, cairo(2026, 11, 30, 20))
    before_reset = engine.issue("A", False, cairo(2026, 12, 1, 3, 59, 59))
    assert (evening.label, before_reset.label) == ("A001", "A002")
    assert before_reset.business_day == "2026-11-30"
    after_reset = engine.issue("A", False, cairo(2026, 12, 1, 4))
    assert after_reset.label == "A001" and after_reset.business_day == "2026-12-01"
    # Yesterday's tickets left in the queue were voided at the first issue.
    assert evening.state is TicketState.VOIDED and evening.reason == "day_end"
    assert before_reset.state is TicketState.VOIDED


def test_business_day_is_local_cairo_time_minus_reset_hour() -> None:
    engine = make_engine()
    assert engine.business_day(cairo(2026, 7, 1, 3, 59)) == "2026-06-30"
    assert engine.business_day(cairo(2026, 7, 1, 4, 0)) == "2026-07-01"
    # 01:30 UTC is 03:30 in Cairo in winter: still the previous business day.
    assert engine.business_day(cairo(2026, 12, 1, 3, 30)) == "2026-11-30"


# -- calling --------------------------------------------------------------------
def test_call_next_calls_oldest_and_finishes_current_as_served() -> None:
    engine = make_engine()
    a1 = engine.issue("A", False, MORNING)
    a2 = engine.issue("A", False, MORNING + 1)
    called, finished = engine.call_next("c1", MORNING + 10)
    assert called is a1 and finished is None
    assert a1.state is TicketState.CALLED and a1.counter == "c1"
    assert a1.called_at == a1.first_called_at == MORNING + 10
    called, finished = engine.call_next("c1", MORNING + 70)
    assert called is a2 and finished is a1
    assert a1.state is TicketState.SERVED and a1.served_at == MORNING + 10
    assert a1.finished_at == MORNING + 70
    assert engine.state.service_times["building"] == [60.0]
    assert engine.call_next("c1", MORNING + 80) == (None, a2)
    assert engine.counter_state("c1").current is None and engine.counter_state("c1").open


def test_counter_by_window_number() -> None:
    engine = make_engine()
    engine.issue("A", False, MORNING)
    called, _ = engine.call_next("1", MORNING + 1)
    assert called is not None and called.counter == "c1"


def test_paused_counter_refuses_calls_but_finishes_its_citizen() -> None:
    engine = make_engine()
    engine.issue("A", False, MORNING)
    engine.issue("A", False, MORNING + 1)
    engine.call_next("c1", MORNING + 2)
    assert engine.open_counters("A") == ["c1"]
    engine.pause("c1", MORNING + 3)
    assert engine.open_counters("A") == []
    for op in (engine.call_next, engine.recall):
        with pytest.raises(QueueError) as exc:
            op("c1", MORNING + 4)
        assert codes(exc) == "counter_paused"
    assert engine.done("c1", MORNING + 5).state is TicketState.SERVED
    engine.resume("c1", MORNING + 6)
    called, _ = engine.call_next("c1", MORNING + 7)
    assert called is not None and called.label == "A002"


def test_recall_then_automatic_no_show_after_max_recalls() -> None:
    engine = make_engine(max_recalls=2)
    ticket = engine.issue("A", False, MORNING)
    engine.call_next("c1", MORNING + 1)
    assert engine.recall("c1", MORNING + 30).recalls == 1
    assert engine.recall("c1", MORNING + 60).recalls == 2
    assert ticket.state is TicketState.CALLED and ticket.called_at == MORNING + 60
    assert ticket.first_called_at == MORNING + 1
    last = engine.recall("c1", MORNING + 90)
    assert last is ticket and ticket.state is TicketState.NO_SHOW
    assert ticket.reason == "auto_no_show" and ticket.recalls == 2
    assert engine.counter_state("c1").current is None
    with pytest.raises(QueueError) as exc:
        engine.recall("c1", MORNING + 91)
    assert codes(exc) == "no_current_ticket"


def test_no_show_ends_the_call() -> None:
    engine = make_engine(max_recalls=0)
    ticket = engine.issue("A", False, MORNING)
    engine.call_next("c1", MORNING + 1)
    assert engine.no_show("c1", MORNING + 2) is ticket
    assert ticket.state is TicketState.NO_SHOW and ticket.finished_at == MORNING + 2
    assert "building" not in engine.state.service_times


def test_transfer_keeps_label_and_place_by_issue_time() -> None:
    engine = make_engine()
    a1 = engine.issue("A", False, MORNING)
    b1 = engine.issue("B", False, MORNING + 5)
    engine.call_next("c1", MORNING + 10)
    moved = engine.transfer("c1", "vehicles", MORNING + 20)
    assert a1.state is TicketState.TRANSFERRED and a1.finished_at == MORNING + 20
    assert (moved.label, moved.number, moved.issued_at) == ("A001", 1, MORNING)
    assert moved.service == "vehicles" and moved.origin_id == a1.id
    assert moved.state is TicketState.WAITING and moved.id > b1.id
    assert engine.waiting("vehicles") == [moved, b1]
    called, _ = engine.call_next("c2", MORNING + 30)
    assert called is moved
    # A transferred, finished ticket cannot be transferred again.
    with pytest.raises(QueueError) as exc:
        engine.transfer("c1", "vehicles", MORNING + 31)
    assert codes(exc) == "no_current_ticket"


def test_transferred_label_stays_held_in_its_first_service() -> None:
    engine = make_engine(
        services=[service("s", "S", first=1, last=2), service("t", "T")],
        counter_list=counters(("c", ["s"], False)),
    )
    engine.issue("s", False, MORNING)
    engine.call_next("c", MORNING + 1)
    engine.transfer("c", "t", MORNING + 2)  # S001 now waits in service t
    assert engine.issue("s", False, MORNING + 3).label == "S002"
    with pytest.raises(QueueError) as exc:
        engine.issue("s", False, MORNING + 4)
    assert codes(exc) == "range_exhausted"


def test_void_frees_the_counter() -> None:
    engine = make_engine()
    ticket = engine.issue("A", False, MORNING)
    engine.call_next("c1", MORNING + 1)
    assert engine.void(ticket.id, "printer_failed", MORNING + 2) is ticket
    assert ticket.state is TicketState.VOIDED and ticket.reason == "printer_failed"
    assert engine.counter_state("c1").current is None
    with pytest.raises(QueueError) as exc:
        engine.void(ticket.id, "again", MORNING + 3)
    assert codes(exc) == "illegal_transition"
    assert "voided" in exc.value.message


def test_feedback_only_for_served_tickets() -> None:
    engine = make_engine()
    ticket = engine.issue("A", False, MORNING)
    with pytest.raises(QueueError) as exc:
        engine.feedback(ticket.id, "satisfied", MORNING)
    assert codes(exc) == "illegal_transition"
    engine.call_next("c1", MORNING + 1)
    engine.done("c1", MORNING + 2)
    with pytest.raises(QueueError) as exc:
        engine.feedback(ticket.id, "great", MORNING + 3)
    assert codes(exc) == "bad_rating"
    assert engine.feedback(ticket.id, "neutral", MORNING + 3).rating == "neutral"


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        (lambda e: e.issue("nope", False, MORNING), "unknown_service"),
        (lambda e: e.call_next("c9", MORNING), "unknown_counter"),
        (lambda e: e.done("c1", MORNING), "no_current_ticket"),
        (lambda e: e.no_show("c2", MORNING), "no_current_ticket"),
        (lambda e: e.transfer("c1", "zzz", MORNING), "unknown_service"),
        (lambda e: e.void(999, "x", MORNING), "unknown_ticket"),
        (lambda e: e.feedback(999, "satisfied", MORNING), "unknown_ticket"),
        (lambda e: e.estimate_for(999), "unknown_ticket"),
    ],
)
def test_errors_have_stable_codes_and_change_nothing(operation, code) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    engine.issue("A", False, MORNING - 100)
    engine.take_changes()
    before = copy.deepcopy(engine.state)
    with pytest.raises(QueueError) as exc:
        operation(engine)
    assert codes(exc) == code
    assert engine.state == before
    assert not engine.take_changes()


def test_transfer_to_the_same_service_is_refused() -> None:
    engine = make_engine()
    engine.issue("A", False, MORNING)
    engine.call_next("c1", MORNING + 1)
    with pytest.raises(QueueError) as exc:
        engine.transfer("c1", "A", MORNING + 2)
    assert codes(exc) == "illegal_transition"


# -- state and changes ------------------------------------------------------------
def test_changes_list_the_rows_touched_and_reset() -> None:
    engine = make_engine()
    assert engine.take_changes().counters == {"c1", "c2", "pw"}  # new counters saved
    ticket = engine.issue("A", False, MORNING)
    changes = engine.take_changes()
    assert changes.tickets == {ticket.id}
    assert changes.sequences == {("2026-11-30", "building")}
    assert not changes.counters and not changes.service_times
    engine.call_next("c1", MORNING + 1)
    engine.done("c1", MORNING + 2)
    changes = engine.take_changes()
    assert (changes.tickets, changes.counters, changes.service_times) == (
        {ticket.id},
        {"c1"},
        {"building"},
    )
    assert not engine.take_changes()


def test_engine_resumes_from_saved_state() -> None:
    engine = make_engine()
    for i in range(3):
        engine.issue("A", i == 1, MORNING + i)
    engine.call_next("c1", MORNING + 5)
    saved = copy.deepcopy(engine.state)
    again = QueueEngine(BRANCH, SERVICES, list(engine.counters.values()), engine.policy, saved)
    assert not again.take_changes()
    assert [t.label for t in again.waiting("A")] == [t.label for t in engine.waiting("A")]
    assert again.issue("A", False, MORNING + 9).label == "A004"
    assert again.issue("A", False, MORNING + 9).id == 5


def test_state_rebuilt_from_rows_with_text_states() -> None:
    engine = make_engine()
    engine.issue("A", False, MORNING)
    rows = copy.deepcopy(engine.state)
    rows.tickets[1].state = "waiting"  # type: ignore[assignment]
    rebuilt = EngineState(
        tickets={1: type(rows.tickets[1])(**vars(rows.tickets[1]))},
        counters=rows.counters,
        sequences=rows.sequences,
    )
    again = QueueEngine(BRANCH, SERVICES, list(engine.counters.values()), engine.policy, rebuilt)
    assert again.state.tickets[1].state is TicketState.WAITING
    assert again.state.next_ticket_id == 2
    assert [t.id for t in again.waiting()] == [1]


def test_forget_before_drops_old_finished_tickets_from_memory_only() -> None:
    engine = make_engine()
    served = engine.issue("A", False, cairo(2026, 11, 29, 10))
    engine.call_next("c1", cairo(2026, 11, 29, 10, 5))
    engine.done("c1", cairo(2026, 11, 29, 10, 9))
    left = engine.issue("A", False, cairo(2026, 11, 29, 11))
    today = engine.issue("A", False, MORNING)
    assert left.state is TicketState.VOIDED  # rolled at the first issue of the day
    engine.take_changes()
    assert engine.forget_before("2026-11-30") == 2
    assert set(engine.state.tickets) == {today.id}
    assert list(engine.state.sequences) == [("2026-11-30", "building")]
    assert not engine.take_changes()
    assert engine.issue("A", False, MORNING + 1).id == today.id + 1
    with pytest.raises(QueueError):
        engine.feedback(served.id, "satisfied", MORNING + 2)


def test_bench_queue_reports_each_operation() -> None:
    from appliance.sim.bench.queue import bench_queue

    result = bench_queue(finished=30, waiting=10, n=5)
    assert set(result) == {
        "engine_issue_us",
        "engine_call_next_us",
        "engine_estimate_us",
        "engine_take_changes_us",
    }
    assert all(v > 0 for v in result.values())


def test_tickets_of_a_service_dropped_from_the_configuration() -> None:
    engine = make_engine()
    engine.issue("B", False, MORNING)
    kept = engine.issue("B", True, MORNING + 1)
    restarted = QueueEngine(
        BRANCH, SERVICES[:1], counters(("c1", ["building"], False)), engine.policy, engine.state
    )
    assert restarted.estimate_for(kept.id).people_ahead == 0
    assert restarted.estimate_for(kept.id).minutes is None
    assert restarted.call_next("c1", MORNING + 2) == (None, None)
    assert [t.id for t in restarted.roll_day(MORNING + 86400)] == [1, 2]
