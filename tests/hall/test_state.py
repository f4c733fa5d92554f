"""The hall state the screen is drawn from."""

from __future__ import annotations

import pytest

from appliance.config.branch import load_config
from appliance.hall.state import Call, HallState, call_from_event
from tests.support import EXAMPLE_CONFIG


def counter_state(number: str, window: int, state: str = "called") -> dict[str, object]:
    ticket = {"number": number, "state": state, "service": "building"}
    return {"counter": f"w{window}", "window": window, "state": "serving", "ticket": ticket}


@pytest.fixture
def hall() -> HallState:
    changes: list[int] = []
    state = HallState(
        load_config(EXAMPLE_CONFIG), keep_calls=2, on_change=lambda: changes.append(1)
    )
    state.changes = changes  # type: ignore[attr-defined]
    return state


def test_calls_newest_first_and_bounded(hall: HallState) -> None:
    for i in range(5):
        assert hall.add_call(Call(f"A00{i}", 1, event_id=f"e{i}"))
    snap = hall.snapshot()
    assert [c.ticket for c in snap.calls] == ["A004", "A003", "A002"]
    assert snap.current is not None and snap.current.ticket == "A004"
    assert snap.version == 5 and len(hall.changes) == 5  # type: ignore[attr-defined]


def test_a_redelivered_event_is_not_a_new_call(hall: HallState) -> None:
    assert hall.add_call(Call("A001", 1, event_id="same"))
    assert not hall.add_call(Call("A001", 1, event_id="same"))
    hall.add_call(Call("B001", 2, event_id="other"))
    assert hall.add_call(Call("A001", 1, event_id="recall", recall=1))
    # A recall is new news (flashed, spoken) but the ticket is listed once.
    assert [(c.ticket, c.recall) for c in hall.snapshot().calls] == [("A001", 1), ("B001", 0)]


def test_retained_counter_states_fill_an_empty_screen_only(hall: HallState) -> None:
    hall.set_counter(counter_state("B007", 4), retained=True)
    hall.set_counter(counter_state("C001", 5, state="served"), retained=True)
    hall.set_counter(counter_state("D002", 6), retained=False)  # live: the call event tells
    snap = hall.snapshot()
    assert [(c.ticket, c.window, c.fresh) for c in snap.calls] == [("B007", 4, False)]
    hall.add_call(Call("A010", 2, event_id="x"))
    hall.add_call(Call("A011", 3, event_id="y"))
    hall.set_counter(counter_state("E005", 1), retained=True)  # full: never evicts news
    assert [c.ticket for c in hall.snapshot().calls] == ["A011", "A010", "B007"]


def test_services_and_presence(hall: HallState) -> None:
    hall.set_service({"service": "building", "waiting": 7, "estimate_minutes": 21.5})
    hall.set_service({"service": "unknown", "waiting": 7})
    hall.set_service({"service": "shops", "waiting": -3, "estimate_minutes": "soon"})
    services = {s.id: s for s in hall.snapshot().services}
    assert (services["building"].waiting, services["building"].estimate_minutes) == (7, 21.5)
    assert (services["shops"].waiting, services["shops"].estimate_minutes) == (0, None)
    before = hall.snapshot().version
    hall.set_service({"service": "building", "waiting": 7, "estimate_minutes": 21.5})
    assert hall.snapshot().version == before  # nothing changed, nothing to redraw
    assert hall.snapshot().master_online is None and not hall.snapshot().offline
    hall.set_master(False)
    assert hall.snapshot().offline
    hall.set_master(True)
    hall.set_bus(False)
    assert hall.snapshot().offline


@pytest.mark.parametrize(
    "payload",
    [{}, {"ticket": "A1"}, {"ticket": "", "window": 1}, {"ticket": "A1", "window": "2"},
     {"ticket": "A1", "window": True}],
)  # fmt: skip
def test_unusable_call_events_are_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        call_from_event(payload)


def test_call_event_fields() -> None:
    call = call_from_event(
        {"id": "ev", "ticket": "A001", "window": 3, "counter": "w3", "service": "building",
         "recall": 2, "priority": True}
    )  # fmt: skip
    assert (call.ticket, call.window, call.counter, call.recall, call.priority) == (
        "A001", 3, "w3", 2, True
    )  # fmt: skip
