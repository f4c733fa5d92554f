from __future__ import annotations

from pathlib import Path

import pytest

from appliance.drivers.modem.at import AtModem
from appliance.drivers.modem.sim import SimulatedModem
from appliance.sms.outbox import Outbox
from appliance.sms.sender import Sender

NUMBER = "+201012345678"
LONG = "تم استلام طلبكم رقم 417، وسيتم إبلاغكم عند جاهزيته للاستلام من الشباك ٥. شكراً لكم."
SHORT = "طلبكم جاهز"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox.db", max_attempts=3, backoff_s=10, max_backoff_s=100)


@pytest.fixture
def sender(outbox: Outbox, modem: AtModem, clock: Clock) -> Sender:
    return Sender(outbox, modem, rate_per_minute=100, clock=clock, modem_retry_s=1)


def drain_reports(sender: Sender, sim: SimulatedModem, want: int) -> None:
    """Apply delivery reports until ``want`` parts are delivered."""
    for _ in range(50):
        sender.apply_reports(sender.modem.poll(0.2))
        rows = [p for m in range(1, 20) for p in sender.outbox.parts(m)]
        if sum(p.state == "delivered" for p in rows) >= want:
            return
    raise AssertionError("delivery reports did not arrive")


def test_every_message_is_stored_once_per_event(outbox: Outbox, clock: Clock) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, LONG, clock())
    assert mid is not None
    assert outbox.enqueue("ev-1", NUMBER, LONG, clock()) is None  # the event came again
    assert [p.state for p in outbox.parts(mid)] == ["pending", "pending"]
    assert outbox.status()["pending"] == 1


def test_a_message_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    first = Outbox(tmp_path / "o.db")
    mid = first.enqueue("ev-1", NUMBER, SHORT, clock())
    first.close()  # no clean shutdown needed: the row was committed by enqueue
    again = Outbox(tmp_path / "o.db")
    assert mid is not None
    msg = again.message(mid)
    assert msg is not None and msg.text == SHORT and msg.state == "pending"
    mode = again._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = again._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL


def test_send_and_track_delivery_of_every_part(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, LONG, clock())
    assert mid is not None
    sender.step()
    assert sim.messages == [(NUMBER, LONG)]
    msg = outbox.message(mid)
    assert msg is not None and msg.state in ("sent", "delivered")
    drain_reports(sender, sim, 2)
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "delivered"
    assert outbox.status()["parts_awaiting_report"] == 0


def test_a_failed_later_part_is_the_only_one_resent(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, LONG, clock())
    assert mid is not None
    sim.fail_next(42, after=1)  # part 1 goes through, part 2 meets congestion
    sender.step()
    assert [p.state for p in outbox.parts(mid)] == ["accepted", "pending"]
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "pending" and msg.attempts == 1
    assert "+CMS ERROR 42" in (msg.last_error or "")
    sender.step()  # backoff not over: nothing is sent
    assert len(sim.received) == 2
    clock.now += 10
    sender.step()
    assert [p.state for p in outbox.parts(mid)][1] == "accepted"
    assert len(sim.sent) == 2  # part 1 was not sent twice
    assert sim.messages == [(NUMBER, LONG)]
    assert [p.submit.concat for p in sim.sent] == [(mid % 256, 2, 1), (mid % 256, 2, 2)]


def test_permanent_error_dead_letters_at_once(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-9", NUMBER, SHORT, clock())
    sim.fail_next(1)  # unassigned number
    sender.step()
    msg = outbox.message(mid or 0)
    assert msg is not None and msg.state == "dead"
    status = outbox.status()
    assert status["dead"] == 1
    (letter,) = status["dead_letters"]
    assert letter["event"] == "ev-9" and letter["phone"] == "+20 10* *** **78"
    assert "+CMS ERROR 1" in letter["error"]
    assert "12345678" not in str(status)


def test_retries_back_off_then_dead_letter(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    sim.fail_next(38, count=3)
    waits = []
    for _ in range(3):
        sender.step()
        msg = outbox.message(mid)
        assert msg is not None
        if msg.state == "dead":
            break
        waits.append(sender.outbox.next_due() - clock.now)  # type: ignore[operator]
        clock.now += waits[-1]
    assert waits == [10, 20]  # exponential backoff
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "dead" and msg.attempts == 3
    assert sim.messages == []


@pytest.mark.parametrize("fault", ["no_sim", "no_network"])
def test_modem_faults_hold_messages_without_using_attempts(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock, fault: str
) -> None:
    if fault == "no_sim":
        sim.sim_present = False
    else:
        sim.registration = 2
    mid = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    assert sender.step() == 1  # the modem retry interval
    assert [f for f, _ in sender.faults] == [fault]
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "pending" and msg.attempts == 0
    sim.sim_present, sim.registration = True, 1
    clock.now += 61
    sender.step()
    assert sender.faults == []
    assert sim.messages == [(NUMBER, SHORT)]


def test_network_lost_between_health_checks_does_not_use_attempts(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    sender.step()
    sim.registration = 0
    mid = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    sender.step()
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "pending" and msg.attempts == 0
    assert "331" in (msg.last_error or "")


def test_modem_unplugged_mid_send_loses_nothing(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, LONG, clock()) or 0
    sim.unplug_on_next_send(sent=False)
    sender.step()
    assert [f for f, _ in sender.faults] == ["unplugged"]
    assert [p.state for p in outbox.parts(mid)] == ["pending", "pending"]
    sender.step()  # still unplugged: the restart fails, nothing is lost
    sim.start()  # plugged in again
    clock.now += 100
    sender.step()
    assert sender.faults == []
    assert sim.messages == [(NUMBER, LONG)]
    msg = outbox.message(mid)
    assert msg is not None and msg.state in ("sent", "delivered")


def test_answer_lost_part_is_resent_and_may_duplicate(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    """The one documented duplicate: the network took the part, its +CMGS was lost."""
    mid = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    sim.silence_next(sent=True)
    sender.step()
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "pending"
    assert "may have been sent" in (msg.last_error or "")
    clock.now += 100
    sender.step()
    sender.step()
    assert sim.messages == [(NUMBER, SHORT), (NUMBER, SHORT)]


def test_dropped_part_is_sent_again(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    mid = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    sim.drop_next(report=0x41)
    sender.step()
    assert sim.messages == []
    for _ in range(20):
        sender.apply_reports(sender.modem.poll(0.2))
        if outbox.parts(mid)[0].state == "pending":
            break
    msg = outbox.message(mid)
    assert msg is not None and msg.state == "pending" and msg.attempts == 1
    clock.now += 100
    sender.step()
    assert sim.messages == [(NUMBER, SHORT)]


def test_rate_limit(sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock) -> None:
    sender.rate_per_minute = 2
    for i in range(3):
        outbox.enqueue(f"ev-{i}", NUMBER, f"message {i}", clock())
    assert sender.step() > 0
    assert len(sim.messages) == 2
    clock.now += 61
    sender.step()
    assert [t for _, t in sim.messages] == ["message 0", "message 1", "message 2"]


def test_crash_between_writing_and_answer_resends(tmp_path: Path, clock: Clock) -> None:
    box = Outbox(tmp_path / "o.db")
    mid = box.enqueue("ev-1", NUMBER, LONG, clock()) or 0
    box.mark_sending(mid, 1)  # then the process dies
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert [p.state for p in again.unsent_parts(mid)] == ["pending", "pending"]
    assert again.status()["resent_after_crash"] == 1


def test_purge_forgets_finished_messages_and_numbers(
    sender: Sender, sim: SimulatedModem, outbox: Outbox, clock: Clock
) -> None:
    done = outbox.enqueue("ev-1", NUMBER, SHORT, clock()) or 0
    sender.step()
    waiting = outbox.enqueue("ev-2", NUMBER, SHORT, clock() + 1000) or 0
    outbox._db.execute("UPDATE messages SET next_attempt = 1e12 WHERE id = ?", (waiting,))
    assert outbox.purge(clock.now + 1) == 1
    assert outbox.message(done) is None
    assert outbox.message(waiting) is not None  # not finished: kept whatever its age
    count = outbox._db.execute("SELECT COUNT(*) FROM parts WHERE message_id = ?", (done,))
    assert count.fetchone()[0] == 0


def test_an_unusable_outbox_file_is_a_clear_error(tmp_path: Path) -> None:
    from appliance.sms.outbox import OutboxError

    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot open the SMS outbox"):
        Outbox(tmp_path / "junk.db")
