"""The kiosk's journal of requests in flight: a kiosk restarted mid-press
voids the number it was given, and never one whose paper may be out."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.bus.client import BusClient
from appliance.kiosk.journal import PressJournal
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import running_branch
from tests.support.kiosk import Rig, kiosk_unit, tickets


def command(cid: str, service: str = "A") -> dict[str, object]:
    return {"id": cid, "service": service, "priority": False, "unit": "k1"}


def test_recover_reopens_asked_and_failed_requests_only(tmp_path: Path) -> None:
    path = tmp_path / "k1.journal"
    j = PressJournal(path)
    for cid in ("asked", "printing", "failed", "printed", "refused"):
        j.asked(command(cid))
    j.printing("printing")
    j.printing("failed")
    j.failed("failed")
    j.printing("printed")
    j.settled("printed")
    j.settled("refused")
    with path.open("a") as f:
        f.write('{"op": "asked", "id": "cut sho')  # the power went mid-line
    reopened = PressJournal(path).recover()
    assert sorted(c["id"] for c in reopened) == ["asked", "failed"]
    # Compacted to what is still open; a second start sees the same.
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(e["id"] for e in lines) == ["asked", "failed"]
    assert sorted(c["id"] for c in PressJournal(path).recover()) == ["asked", "failed"]


def test_no_path_keeps_nothing(tmp_path: Path) -> None:
    j = PressJournal(None)
    j.asked(command("x"))
    assert j.recover() == []
    assert list(tmp_path.iterdir()) == []


def test_a_restarted_kiosk_voids_the_number_it_was_given(tmp_path: Path, broker: Mosquitto) -> None:
    """The kiosk died after the master issued A001 and before the paper came
    out (journal: asked), and while printing A002 (journal: printing)."""
    journal = tmp_path / "k1.journal"
    with running_branch(tmp_path, broker.url) as branch:
        topic = branch.config_topics().ticket_cmd("k1", "issue")
        lost, printing = command("k1-lost"), command("k1-printing")
        # The kiosk's life before the power cut: its own client id asked.
        before = BusClient(branch.config, role="kiosk", unit="k1", presence=False)
        before.start()
        try:
            assert before.request(topic, lost, timeout=5)["ticket"]["number"] == "A001"
            assert before.request(topic, printing, timeout=5)["ticket"]["number"] == "A002"
        finally:
            before.stop()
        j = PressJournal(journal)
        j.asked(lost)
        j.asked(printing)
        j.printing("k1-printing")

        rig = Rig(branch, kiosk_unit(journal=str(journal)))
        try:
            assert wait_until(lambda: tickets(branch.db).get("A001") == "voided", 20)
            assert wait_until(lambda: not rig.kiosk._orphans and not rig.kiosk._pending_voids, 20)
            assert tickets(branch.db)["A002"] == "waiting"  # its paper may be out
            assert rig.printer.jobs == []  # nothing printed for an old request
        finally:
            rig.close()
    assert PressJournal(journal).recover() == []  # settled, nothing left open


def test_a_printed_ticket_leaves_nothing_open(tmp_path: Path, broker: Mosquitto) -> None:
    journal = tmp_path / "k1.journal"
    with running_branch(tmp_path, broker.url) as branch:
        rig = Rig(branch, kiosk_unit(journal=str(journal)))
        try:
            rig.press(rig.kiosk.unit.buttons[0].pin)
            assert rig.wait_printed(1, timeout=15)
        finally:
            rig.close()
        assert tickets(branch.db) == {"A001": "waiting"}
    ops = [json.loads(line)["op"] for line in journal.read_text().splitlines()]
    assert ops == ["asked", "printing", "settled"]
    assert PressJournal(journal).recover() == []
