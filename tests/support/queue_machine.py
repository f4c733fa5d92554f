"""A hypothesis state machine of the queue engine: random branches driven by
random sequences of operations, checked after every step (the rules are
listed in tests/queue/test_engine_properties.py, which runs it)."""

from __future__ import annotations

import copy

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from appliance.config import Counter, Policy, Service
from appliance.errors import QueueError
from appliance.queue import (
    EngineState,
    QueueEngine,
    Ticket,
    TicketState,
    calling_order,
    may_serve,
)
from tests.support.engine import BRANCH, MORNING, service

CODES = {
    "unknown_service",
    "unknown_counter",
    "counter_paused",
    "no_current_ticket",
    "unknown_ticket",
    "illegal_transition",
    "range_exhausted",
    "bad_rating",
}
HOUR = 3600.0
UNKNOWN = 18  # picks from 0 to 19: 18 and 19 name nothing
PICK = st.integers(0, 19)


policies = st.builds(
    Policy,
    others=st.sampled_from(["strict", "ratio", "never"]),
    ratio=st.integers(1, 3),
    priority_window_serves_regular=st.booleans(),
    max_recalls=st.integers(0, 2),
    estimate_samples=st.integers(1, 4),
)


@st.composite
def branches(draw: st.DrawFn) -> tuple[list[Service], list[Counter], Policy]:
    n_services = draw(st.integers(1, 3))
    services = [
        service(sid, prefix, first=draw(st.integers(0, 2)), last=draw(st.sampled_from([3, 4, 999])))
        for sid, prefix in list(zip(["building", "vehicles", "civil"], "ABC", strict=True))[
            :n_services
        ]
    ]
    ids = [s.id for s in services]
    counters = [
        Counter(
            id=f"c{i}",
            number=i + 1,
            services=draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True)),
            priority=draw(st.booleans()),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    return services, counters, draw(policies)


def expected_class(counter: Counter, streak: int, policy: Policy, p: bool, r: bool) -> str | None:
    """The class ('p'/'r') the policy says a call takes, given what waits."""
    if counter.priority:
        return "p" if p else "r" if r and policy.priority_window_serves_regular else None
    if policy.others == "never":
        return "r" if r else None
    if policy.others == "ratio" and p and r:
        return "p" if streak >= policy.ratio else "r"
    return "p" if p else "r" if r else None


def assert_changes_complete(before: EngineState, after: EngineState, engine: QueueEngine) -> None:
    changes = engine.take_changes()
    for name in ("tickets", "counters", "sequences", "service_times"):
        old, new = getattr(before, name), getattr(after, name)
        listed = getattr(changes, name)
        differing = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        assert differing <= listed, f"{name} rows changed but not listed: {differing - listed}"
        assert listed <= new.keys(), f"{name} listed but missing: {listed - new.keys()}"
    assert before.next_ticket_id <= after.next_ticket_id


class QueueMachine(RuleBasedStateMachine):
    engine: QueueEngine

    @initialize(config=branches())
    def start(self, config: tuple[list[Service], list[Counter], Policy]) -> None:
        services, counters, self.policy = config
        self.engine = QueueEngine(BRANCH, services, counters, self.policy)
        self.engine.take_changes()
        self.now = MORNING
        self.issued: dict[tuple[str, str], list[int]] = {}  # numbers in issue order
        self.wrapped: set[tuple[str, str]] = set()

    # -- the harness: every operation goes through here -----------------------
    def apply(self, op, *args: object) -> object:  # type: ignore[no-untyped-def]
        before = copy.deepcopy(self.engine.state)
        try:
            result = op(*args)
        except QueueError as exc:
            assert exc.code in CODES
            assert self.engine.state == before, f"{exc.code} changed the state"
            assert not self.engine.take_changes()
            self.error = exc.code
            event(f"refused: {exc.code}")
            return None
        self.error = None
        event(f"applied: {op.__name__}")
        assert_changes_complete(before, self.engine.state, self.engine)
        return result

    # Picks are mostly valid; the top values name something that does not exist.
    def counter_key(self, i: int) -> str:
        ids = list(self.engine.counters)
        return ids[i % len(ids)] if i < UNKNOWN else "nowhere"

    def serving_key(self, i: int) -> str:
        """Mostly a counter that is serving someone, so that finishing ops apply."""
        busy = [cs.id for cs in self.engine.state.counters.values() if cs.current is not None]
        if busy and i < UNKNOWN and i % 4:
            return busy[i % len(busy)]
        return self.counter_key(i)

    def service_key(self, i: int) -> str:
        svcs = list(self.engine.services.values())
        if i < UNKNOWN:
            svc = svcs[i % len(svcs)]
            return svc.prefix.lower() if i % 3 == 1 else svc.prefix if i % 3 else svc.id
        return "Z" if i % 2 else "nothing"

    def ticket_key(self, i: int) -> int:
        return i % self.engine.state.next_ticket_id if i < UNKNOWN else 10_000 + i

    # -- time -------------------------------------------------------------------
    @rule(seconds=st.sampled_from([1, 7, 45, 300, 3 * HOUR, 10 * HOUR, 20 * HOUR]))
    def tick(self, seconds: float) -> None:
        self.now += seconds

    # -- operations --------------------------------------------------------------
    @rule(which=PICK, priority=st.booleans())
    def issue(self, which: int, priority: bool) -> None:
        key = self.service_key(which)
        before = copy.deepcopy(self.engine.state)
        day = self.engine.business_day(self.now)
        ticket = self.apply(self.engine.issue, key, priority, self.now)
        if which >= UNKNOWN:
            assert self.error == "unknown_service"
            return
        svc = self.engine.service(key)
        held = {
            t.label for t in before.tickets.values() if t.state.active and t.business_day == day
        }
        size = svc.last - svc.first + 1
        last = before.sequences.get((day, svc.id))
        start = svc.first if last is None or last >= svc.last else last + 1
        order = [svc.first + (start - svc.first + k) % size for k in range(size)]
        free = [n for n in order if f"{svc.prefix}{n:03d}" not in held]
        if not free:
            assert self.error == "range_exhausted"
            return
        assert isinstance(ticket, Ticket)
        # The first free number after the last one issued: none skipped unless held.
        assert ticket.number == free[0] and ticket.label not in held
        numbers = self.issued.setdefault((day, svc.id), [])
        if numbers and ticket.number <= numbers[-1]:
            event("numbers wrapped")
            self.wrapped.add((day, svc.id))
        if ticket.number in numbers:
            assert (day, svc.id) in self.wrapped, "a number repeated before the range wrapped"
        numbers.append(ticket.number)
        self.check_rolled(before)

    @rule(which=PICK)
    def call_next(self, which: int) -> None:
        key = self.counter_key(which)
        before = copy.deepcopy(self.engine.state)
        result = self.apply(self.engine.call_next, key, self.now)
        if key not in self.engine.counters:
            assert self.error == "unknown_counter"
            return
        cs_before = before.counters[key]
        if cs_before.paused:
            assert self.error == "counter_paused"
            return
        assert isinstance(result, tuple)
        called, finished = result
        cfg = self.engine.counters[key]
        day = self.engine.business_day(self.now)
        candidates = [
            t
            for t in before.tickets.values()
            if t.state is TicketState.WAITING
            and t.business_day >= day
            and t.service in cfg.services
        ]
        p = [t for t in candidates if t.priority]
        r = [t for t in candidates if not t.priority]
        cls = expected_class(cfg, cs_before.regular_streak, self.policy, bool(p), bool(r))
        if cls is None:
            assert called is None
        else:
            event(f"called {cls} at {'window' if cfg.priority else self.policy.others}")
            oldest = min(p if cls == "p" else r, key=lambda t: (t.issued_at, t.id))
            assert called is not None and called.id == oldest.id
            assert called.state is TicketState.CALLED and called.counter == key
        if finished is not None:
            assert finished.id == cs_before.current and finished.state is TicketState.SERVED
        self.check_rolled(before)

    @rule(which=PICK)
    def recall(self, which: int) -> None:
        key = self.serving_key(which)
        ticket = self.apply(self.engine.recall, key, self.now)
        if isinstance(ticket, Ticket):
            assert ticket.recalls <= self.policy.max_recalls
            if ticket.state is TicketState.NO_SHOW:
                event("auto no-show")
                assert ticket.reason == "auto_no_show"
                assert ticket.recalls == self.policy.max_recalls
                assert self.engine.state.counters[key].current is None

    @rule(which=PICK, action=st.sampled_from(["no_show", "done"]))
    def finish(self, which: int, action: str) -> None:
        self.apply(getattr(self.engine, action), self.serving_key(which), self.now)

    @rule(which=PICK, action=st.sampled_from(["pause", "resume"]))
    def pause_or_resume(self, which: int, action: str) -> None:
        self.apply(getattr(self.engine, action), self.counter_key(which), self.now)

    @rule(which=PICK, dest=PICK)
    def transfer(self, which: int, dest: int) -> None:
        key = self.serving_key(which)
        current = self.engine.state.counters.get(key)
        old_id = current.current if current else None
        new = self.apply(self.engine.transfer, key, self.service_key(dest), self.now)
        if isinstance(new, Ticket):
            old = self.engine.state.tickets[old_id]  # type: ignore[index]
            assert old.state is TicketState.TRANSFERRED
            assert (new.label, new.number, new.issued_at, new.priority) == (
                old.label,
                old.number,
                old.issued_at,
                old.priority,
            )
            assert new.origin_id == old.id and new.state is TicketState.WAITING

    @rule(pick=PICK, reason=st.sampled_from(["printer", "clerk"]))
    def void(self, pick: int, reason: str) -> None:
        ticket = self.apply(self.engine.void, self.ticket_key(pick), reason, self.now)
        if isinstance(ticket, Ticket):
            assert ticket.state is TicketState.VOIDED and ticket.reason == reason

    @rule(pick=PICK, rating=st.sampled_from(["satisfied", "unsatisfied", "meh"]))
    def feedback(self, pick: int, rating: str) -> None:
        self.apply(self.engine.feedback, self.ticket_key(pick), rating, self.now)
        if self.error is None:
            assert rating != "meh"

    @rule()
    def restart(self) -> None:
        """The master restarts: a new engine from the saved rows carries on."""
        saved = copy.deepcopy(self.engine.state)
        for t in saved.tickets.values():
            t.state = str(t.state)  # type: ignore[assignment]  # as read from SQLite
        self.engine = QueueEngine(
            BRANCH,
            list(self.engine.services.values()),
            list(self.engine.counters.values()),
            self.policy,
            EngineState(
                tickets={i: Ticket(**vars(t)) for i, t in saved.tickets.items()},
                counters=saved.counters,
                sequences=saved.sequences,
                service_times=saved.service_times,
            ),
        )
        assert not self.engine.take_changes()
        event("restarted")

    # -- checks -----------------------------------------------------------------
    def check_rolled(self, before: EngineState) -> None:
        day = self.engine.business_day(self.now)
        for tid, old in before.tickets.items():
            if old.state.active and old.business_day < day:
                t = self.engine.state.tickets[tid]
                assert t.state is TicketState.VOIDED and t.reason == "day_end"

    @invariant()
    def labels_unique_and_counters_consistent(self) -> None:
        if not hasattr(self, "engine"):
            return
        state = self.engine.state
        active = [t for t in state.tickets.values() if t.state.active]
        labels = [t.label for t in active]
        assert len(labels) == len(set(labels)), f"duplicate labels in the queue: {labels}"
        currents = {cs.current for cs in state.counters.values() if cs.current is not None}
        for t in active:
            if t.state is TicketState.CALLED:
                assert t.counter is not None and state.counters[t.counter].current == t.id
            else:
                assert t.counter is None and t.id not in currents
        for cs in state.counters.values():
            assert not (cs.paused and cs.open)
            if cs.current is not None:  # a counter shows only a citizen it has called
                current = state.tickets[cs.current]
                assert current.state is TicketState.CALLED and current.counter == cs.id
        for sid, samples in state.service_times.items():
            assert 0 < len(samples) <= self.policy.estimate_samples, sid
        assert all(t.id < state.next_ticket_id for t in state.tickets.values())

    @invariant()
    def estimates_count_the_waiting(self) -> None:
        if not hasattr(self, "engine"):
            return
        # The engine answers from its index of the queue: the same answers
        # as a look at every ticket.
        every = self.engine.state.tickets.values()
        for sid in self.engine.services:
            waiting = self.engine.waiting(sid)
            looked = [t for t in every if t.state is TicketState.WAITING and t.service == sid]
            assert waiting == sorted(looked, key=calling_order)
            prio = [t for t in waiting if t.priority]
            assert self.engine.waiting_count(sid) == len(waiting)
            assert self.engine.waiting_count(sid, priority_only=True) == len(prio)
            est = self.engine.estimate(sid)
            assert est.people_ahead == len(waiting)
            assert self.engine.estimate(sid, priority=True).people_ahead == len(prio)
            serves = any(sid in c.services for c in self.engine.counters.values())
            assert (est.minutes is None) == (not serves)
            for place, t in enumerate(waiting):
                assert self.engine.estimate_for(t.id).people_ahead == place

    @precondition(lambda self: hasattr(self, "engine"))
    @rule()
    def every_waiting_ticket_is_eventually_called(self) -> None:
        """On a copy: each counter, resumed and calling alone, calls all it may serve."""
        for cfg in self.engine.counters.values():
            trial = QueueEngine(
                BRANCH,
                list(self.engine.services.values()),
                list(self.engine.counters.values()),
                self.policy,
                copy.deepcopy(self.engine.state),
            )
            trial.roll_day(self.now)
            trial.resume(cfg.id, self.now)
            owed = {t.id for t in trial.waiting() if may_serve(cfg, self.policy, t)}
            for _ in range(len(trial.waiting()) + 1):
                called, _ = trial.call_next(cfg.id, self.now)
                if called is None:
                    break
                owed.discard(called.id)
            assert not owed, f"{cfg.id} never called {owed}"
