"""The dashboard as deployed: served by `nidaa central` (its [dashboard]
section) beside the consumer, over a real branch bridged to the centre; and
the citizens' phones registered at that branch never reach the centre."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from appliance.sim.central.site import CentralSite
from appliance.sim.harness.procs import wait_until
from tests.support.central_site import Clerk
from tests.support.dashboard import USERS, Client, phone_problems

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralSite]:
    with CentralSite(tmp_path_factory.mktemp("site"), ["b1"], dashboard_users=USERS) as s:
        yield s


def test_dashboard_of_nidaa_central_and_no_phone_at_the_centre(site: CentralSite) -> None:
    clerk = Clerk(site, "b1")
    try:
        tickets = [clerk.issue("A") for _ in range(3)]
        for t in tickets[:2]:
            ticket = t["ticket"]
            assert isinstance(ticket, dict)
            # A refusal would raise (QueueError).
            clerk.request("register", ticket=ticket["number"], phone="010 1234 5678")
        clerk.counter("w2", "call-next")
        assert site.converged(30), site.compare()
    finally:
        clerk.close()
    # The phones rest at the branch...
    db = sqlite3.connect(f"file:{Path(site.branches['b1'].db)}?mode=ro", uri=True)
    try:
        phones = [p for (p,) in db.execute("SELECT phone FROM sms_requests")]
    finally:
        db.close()
    assert len(phones) == 2 and all("1234" in p for p in phones)
    # ...and nowhere in the central database.
    assert site.pg is not None
    with psycopg.connect(site.pg.dsn) as conn:
        assert phone_problems(conn) == []

    # The dashboard `nidaa central` serves: login, then the branch's queue.
    assert site.dashboard_url
    web = Client(site.dashboard_url)
    assert web.request("/")[0] == 303  # nothing without a login
    assert web.login()[0] == 303

    def shows_two_waiting() -> bool:
        status, _, page = web.request("/branch/b1")
        return status == 200 and '<b data-k="waiting">2</b>' in page and "متصل" in page

    assert wait_until(shows_two_waiting, 20)
