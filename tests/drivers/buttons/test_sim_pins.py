"""The 'sim' pin factory: buttons pressed from another process, outputs journalled."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from gpiozero import LED, Button

from appliance.drivers.buttons import pin_factory
from appliance.drivers.buttons.sim_pins import SOCKET, SimPinFactory, journal, press
from appliance.errors import HardwareError
from appliance.sim.harness.procs import wait_until


def test_a_press_through_the_socket_reaches_the_button_before_ok(tmp_path: Path) -> None:
    factory = SimPinFactory(tmp_path)
    try:
        assert not press(tmp_path, 17)  # no button on the pin yet: not a press
        pressed = threading.Event()
        button = Button(17, pull_up=True, pin_factory=factory)
        assert not press(tmp_path, 17)  # a button without its handlers yet: not a press
        button.when_pressed = lambda: pressed.set()
        button.when_released = lambda: None
        assert press(tmp_path, 17, hold_ms=10)
        assert pressed.is_set()  # before the answer, not after
        assert not button.is_pressed  # released again
        led = LED(22, pin_factory=factory)
        led.on()
        led.off()
        records = [(r["pin"], r["state"]) for r in journal(tmp_path)]
        assert records == [("GPIO17", -1), ("GPIO22", 1), ("GPIO22", 0)]
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(tmp_path / SOCKET))
            stream = s.makefile("rwb")
            for bad in (b"press\n", b"press x\n", b"\xff\xfe\n", b"press 22\n", b"press 17 -1\n"):
                stream.write(bad)
                stream.flush()
                assert stream.readline().startswith(b"err"), bad
            stream.write(b"state 22\n")
            stream.flush()
            assert stream.readline() == b"0\n"
        assert press(tmp_path, 17, hold_ms=10)  # still serving after the garbage
    finally:
        factory.close()
    assert not press(tmp_path, 17)  # nobody there: not a press
    assert not (tmp_path / SOCKET).exists()


def test_the_factory_is_chosen_by_name_and_needs_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIDAA_SIM_PINS", raising=False)
    with pytest.raises(HardwareError, match="NIDAA_SIM_PINS"):
        pin_factory("sim", environ={})
    monkeypatch.setenv("NIDAA_SIM_PINS", str(tmp_path / "k1"))
    factory = pin_factory("lgpio", environ={"GPIOZERO_PIN_FACTORY": "sim"})
    try:
        assert isinstance(factory, SimPinFactory)
        assert (tmp_path / "k1" / SOCKET).exists()
    finally:
        factory.close()


def test_simulated_printer_numbers_on_and_follows_its_state_file(tmp_path: Path) -> None:
    from PIL import Image

    from appliance.drivers.printer import PrinterState
    from appliance.drivers.printer.simulated import STATE_FILE, SimulatedPrinter

    image = Image.new("1", (384, 40), 1)
    SimulatedPrinter(output_dir=tmp_path).print_ticket(image)
    again = SimulatedPrinter(output_dir=tmp_path)  # the kiosk restarted
    again.print_ticket(image)
    assert sorted(p.name for p in tmp_path.glob("ticket-*.bin")) == [
        "ticket-0001.bin",
        "ticket-0002.bin",
    ]
    (tmp_path / STATE_FILE).write_text("paper_out\n")
    assert again.status().state is PrinterState.PAPER_OUT
    (tmp_path / STATE_FILE).write_text("ready\n")
    assert again.status().ready


def test_simulated_modem_takes_faults_from_its_control_file(tmp_path: Path) -> None:
    from appliance.drivers.modem import ModemError, open_modem
    from appliance.drivers.modem.pdu import encode

    modem, sim = open_modem("sim", command_timeout=0.5, send_timeout=0.5,
                            sim_record=str(tmp_path / "sent.jsonl"))  # fmt: skip
    assert sim is not None
    try:
        modem.start()
        assert sim.control("nonsense") is False and sim.control("cms x 1") is False
        (part,) = encode("+201012345678", "one", reference=1)

        def control(line: str) -> None:
            with (tmp_path / "sent.ctl").open("a") as f:
                f.write(line + "\n")

        control("cms 500 1")
        assert wait_until(lambda: len(sim._faults) == 1, 5)
        with pytest.raises(ModemError, match="500"):
            modem.send(part)
        control("unplug")
        assert wait_until(lambda: not sim.plugged.is_set(), 5)
        with pytest.raises(ModemError):
            modem.send(part)
        control("replug")
        assert wait_until(sim.plugged.is_set, 5)
        modem.close()  # what the gateway does after a fault: start afresh
        modem.start()
        modem.send(part)
        assert sim.messages == [("+201012345678", "one")]
    finally:
        modem.close()
        sim.stop()
