"""Issue 12's attempts with one unit's stolen credentials, against a branch
provisioned as on site (`nidaa provision`: passwords and ACL) and the real
master started with its own account: every attempt the master answers for
must hold.  The same attempts write docs/security.md's table
(`nidaa demo --attacks --report docs/security.md`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.sim.demo import attacks, impersonation
from appliance.sim.demo.drill import Attempt, Drill
from tests.support import EXAMPLE_CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    with Drill(tmp_path_factory.mktemp("drill"), EXAMPLE_CONFIG).running() as d:
        yield d


def held(results: list[Attempt]) -> None:
    assert results
    for a in results:
        assert a.held, f"item {a.item}: {a.what}: {a.result}"


def test_replies_go_only_to_the_requesters_own_reply_topic(drill: Drill) -> None:
    held(attacks.reply_injection(drill))


def test_a_kiosk_cannot_send_on_another_units_command_topic(drill: Drill) -> None:
    held(impersonation.other_command_topic(drill))


def test_a_kiosk_cannot_void_another_kiosks_ticket_by_naming_its_reply_topic(
    drill: Drill,
) -> None:
    """On the release before, the requester was the reply topic's last level:
    this void went through, blind."""
    (result,) = impersonation.void_as_other(drill)
    held([result])
    assert "the ticket is waiting" in result.result


def test_a_flood_in_another_kiosks_name_fills_no_lane_or_limit_of_its_own(
    drill: Drill,
) -> None:
    (result,) = impersonation.flood_as_other(drill)
    held([result])
    assert result.result.endswith("own request: issued")


def test_retained_commands_are_never_applied_live_or_after_a_restart(drill: Drill) -> None:
    held(attacks.retained(drill))


def test_a_kiosk_voids_only_its_own_waiting_ticket_within_the_window(drill: Drill) -> None:
    results = attacks.voids(drill)
    assert [a.result for a in results] == [
        "refused `not_yours`",
        "refused `not_waiting`",
        "refused `void_too_late`",
        "allowed: voided",
    ]
    held(results)


def test_bad_messages_are_answered_and_change_nothing(drill: Drill) -> None:
    held(attacks.bad_messages(drill))


def test_a_flood_is_rate_limited_and_a_counter_goes_first(drill: Drill) -> None:
    """3,000 requests from one kiosk: at most its tickets a minute are issued,
    and a counter's call-next sent after them is answered before the kiosk's
    requests are (fairness shown by order, not by a time)."""
    (result,) = attacks.flood(drill)
    held([result])
    assert "rate_limited" in result.result


def test_one_copy_of_a_phone_number_at_most_waits_for_an_offline_gateway(drill: Drill) -> None:
    held(attacks.sms_copies(drill))


def test_the_report_replaces_only_its_table(tmp_path: Path) -> None:
    doc = tmp_path / "security.md"
    doc.write_text("# Security\n\nBy hand.\n", encoding="utf-8")
    first = [Attempt(2, "a", "refused", True)]
    attacks.write_report(doc, first)
    attacks.write_report(doc, [*first, Attempt(1, "b", "accepted", False)])
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Security\n\nBy hand.\n")
    assert text.count(attacks.BEGIN) == 1 and text.count(attacks.END) == 1
    assert "| 1 | b | accepted | **no** |" in text and "1 of 2 attempts held." in text
