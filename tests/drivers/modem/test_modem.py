from __future__ import annotations

import pytest

from appliance.drivers.modem import ModemError
from appliance.drivers.modem.at import AtModem
from appliance.drivers.modem.pdu import encode
from appliance.drivers.modem.sim import SimulatedModem

NUMBER = "+201012345678"
ARABIC = "تم استلام طلبكم رقم 417، وسيتم إبلاغكم عند جاهزيته للاستلام من الشباك ٥. شكراً لكم."


def send_all(modem: AtModem, text: str, reference: int = 1) -> list[int]:
    return [modem.send(p) for p in encode(NUMBER, text, reference=reference)]


def test_start_sets_pdu_mode_and_reports_health(sim: SimulatedModem, modem: AtModem) -> None:
    health = modem.start()
    assert health.sim_ready and health.registered and health.signal == 21
    assert health.faults == []
    for cmd in ("AT", "ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CREG?", "AT+CSQ", "AT+CMGF=0"):
        assert cmd in sim.commands
    assert any(c.startswith("AT+CNMI=2,1,0,1") for c in sim.commands)


def test_send_arabic_multipart_and_track_delivery_per_part(
    sim: SimulatedModem, modem: AtModem
) -> None:
    modem.start()
    refs = send_all(modem, ARABIC)
    assert len(refs) == 2 and len(set(refs)) == 2
    assert sim.messages == [(NUMBER, ARABIC)]
    reports = []
    while len(reports) < 2:
        got = modem.poll(2.0)
        assert got, "delivery reports did not arrive"
        reports += got
    assert sorted(r.message_ref for r in reports) == sorted(refs)
    assert all(r.delivered and r.final and r.number == NUMBER for r in reports)


def test_reports_arriving_in_the_middle_of_an_answer_are_kept(
    sim: SimulatedModem, modem: AtModem
) -> None:
    modem.start()
    sim.hold_reports = True
    (mr,) = send_all(modem, "ticket A001")
    sim.release_reports()
    # The report now sits in front of the CSQ answer; it is neither lost nor
    # taken for the answer.
    assert modem.health().signal == 21
    (report,) = modem.poll(1.0)
    assert report.message_ref == mr


def test_no_sim(sim: SimulatedModem, modem: AtModem) -> None:
    sim.sim_present = False
    health = modem.start()
    assert not health.sim_ready
    assert [code for code, _ in health.faults] == ["no_sim"]
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.cms == 310 and info.value.temporary and not info.value.maybe_sent
    assert "+CME ERROR: 10" in sim.errors


@pytest.mark.parametrize("registration", [0, 2])
def test_no_network(sim: SimulatedModem, modem: AtModem, registration: int) -> None:
    sim.registration = registration
    health = modem.start()
    assert not health.registered
    assert [code for code, _ in health.faults] == ["no_network"]
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.cms == 331 and info.value.temporary
    assert sim.sent == []


@pytest.mark.parametrize(("cms", "temporary"), [(38, True), (42, True), (500, True), (1, False)])
def test_cms_errors_map_to_retry_or_fail(
    sim: SimulatedModem, modem: AtModem, cms: int, temporary: bool
) -> None:
    modem.start()
    sim.fail_next(cms)
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.cms == cms
    assert info.value.temporary is temporary
    assert not info.value.maybe_sent
    assert sim.sent == []
    # The modem is fine afterwards.
    send_all(modem, "hello again")
    assert sim.messages == [(NUMBER, "hello again")]


def test_a_later_part_failing_leaves_earlier_parts_sent(
    sim: SimulatedModem, modem: AtModem
) -> None:
    modem.start()
    parts = encode(NUMBER, ARABIC, reference=5)
    modem.send(parts[0])
    sim.fail_next(42)
    with pytest.raises(ModemError):
        modem.send(parts[1])
    assert sim.messages == []
    modem.send(parts[1])  # only the missing part is sent again
    assert sim.messages == [(NUMBER, ARABIC)]
    assert len(sim.sent) == 2


def test_timeout_without_answer_may_have_sent(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.silence_next(sent=True)
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.fault == "timeout"
    assert info.value.temporary and info.value.maybe_sent
    assert sim.messages == [(NUMBER, "hello")]  # the network got it anyway


def test_hung_modem_times_out_at_start(sim: SimulatedModem, modem: AtModem) -> None:
    sim.mute()
    with pytest.raises(ModemError) as info:
        modem.start()
    assert info.value.fault == "timeout"
    sim.mute(False)
    assert modem.start().registered


def test_dropped_part_is_reported_as_not_delivered(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.drop_next()
    (mr,) = send_all(modem, "hello")
    (report,) = modem.poll(2.0)
    assert report.message_ref == mr
    assert not report.delivered and report.final
    assert sim.messages == []


def test_unplugged_modem(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.unplug()
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.fault == "unplugged"
    with pytest.raises(ModemError) as info:
        modem.start()  # the device stays gone until it is plugged in again
    assert info.value.fault == "unplugged"
    sim.start()  # plugged back in, same path
    assert modem.start().registered
    send_all(modem, "hello")
    assert sim.messages == [(NUMBER, "hello")]


def test_unplugged_mid_send(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.unplug_on_next_send(sent=False)
    with pytest.raises(ModemError) as info:
        send_all(modem, "hello")
    assert info.value.fault == "unplugged"
    assert info.value.maybe_sent
    assert sim.sent == []


def test_garbage_from_the_modem_is_survived(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.inject(b'\r\n\xff\xfe\x00GARBAGE\r\n+CDS: 5\r\nNOT-A-PDU\r\n+CMTI: "SM",3\r\n')
    assert modem.poll(0.5) == []
    (mr,) = send_all(modem, "hello")
    assert sim.messages == [(NUMBER, "hello")]
    assert [r.message_ref for r in modem.poll(2.0)] == [mr]


def test_nonsense_answer_is_a_clear_error(sim: SimulatedModem, modem: AtModem) -> None:
    modem.start()
    sim.signal = "x"  # type: ignore[assignment]
    with pytest.raises(ModemError, match=r"\+CSQ value 'x' is not a number") as info:
        modem.health()
    assert info.value.fault == "garbage"


def test_missing_device_is_a_clear_error(tmp_path: object) -> None:
    modem = AtModem("/nonexistent/ttyUSB9", command_timeout=0.5)
    with pytest.raises(ModemError, match="cannot open modem") as info:
        modem.start()
    assert info.value.fault == "unplugged"


def test_the_simulated_modem_refuses_what_it_does_not_know(
    sim: SimulatedModem, modem: AtModem
) -> None:
    modem.start()
    for bad in ("AT+CMEE=x", "AT+FOO", "ATD112;"):
        with pytest.raises(ModemError, match="ERROR"):
            modem.command(bad)
    assert modem.health().registered  # and it still works
