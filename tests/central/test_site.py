"""Branches bridged to a central broker, the consumer and PostgreSQL, every
part real: the central copy converges to each branch's own through link
cuts, a dropping bridge queue and a consumer killed mid-stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.central.config import load_central_config
from appliance.central.consumer import CentralConsumer
from appliance.sim.central.site import CentralSite
from appliance.sim.harness.procs import wait_until
from tests.support.central_site import Clerk


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralSite]:
    # b1's broker queues at most 5 messages for its bridge: a cut overflows it.
    folder = tmp_path_factory.mktemp("site")
    with CentralSite(folder, ["b1", "b2"], max_queued={"b1": 5}) as s:
        yield s


def _link(site: CentralSite, bid: str) -> str:
    rows = site.query("SELECT link FROM branches WHERE branch = %s", bid)
    return str(rows[0][0]) if rows else ""


def test_a_cut_link_an_overflowing_queue_and_a_killed_consumer_lose_nothing(
    site: CentralSite,
) -> None:
    clerks = {bid: Clerk(site, bid) for bid in site.ids}
    try:
        for c in clerks.values():
            c.issue("A")
            c.counter("w2", "call-next")
        assert site.converged(30), site.compare()
        assert wait_until(lambda: _link(site, "b1") == "online", 15)

        # The link is cut: the branch works on; the centre sees it offline.
        site.branches["b1"].link.cut()
        assert wait_until(lambda: _link(site, "b1") == "offline", 15)
        for _ in range(12):  # 24+ changes: beyond the bridge queue of 5
            clerks["b1"].issue("A")
            clerks["b1"].counter("w2", "call-next")
        clerks["b2"].issue("C")
        assert site.compare()["tickets_missing_central"] >= 10
        site.branches["b1"].link.restore()
        assert site.converged(60), site.compare()
        assert wait_until(lambda: _link(site, "b1") == "online", 15)
        b1 = site.query("SELECT resyncs, last_seq, head_seq FROM branches WHERE branch = 'b1'")
        assert b1[0][0] >= 1 and b1[0][1] == b1[0][2]  # a replay filled what the queue dropped

        # The consumer is killed while the branches work; another one starts.
        consumer = site.consumers[0]
        consumer.kill()
        for c in clerks.values():
            c.issue("A")
            c.counter("w3", "call-next")
        consumer.start()
        assert site.converged(60), site.compare()
        counts = site.query(
            "SELECT branch, count(*) FROM events GROUP BY branch ORDER BY branch"
        )
        heads = site.query("SELECT branch, head_seq FROM branches ORDER BY branch")
        assert counts == heads  # every numbered change once, none missing
        # Each branch's calendar came with its description (the dashboard's "today").
        calendars = site.query("SELECT DISTINCT timezone, day_reset_hour FROM branches")
        assert calendars == [("Africa/Cairo", 4)], calendars  # the default reset hour
    finally:
        for c in clerks.values():
            c.close()


def test_two_consumers_share_the_changes_through_a_shared_subscription(tmp_path: Path) -> None:
    with CentralSite(tmp_path, ["b1"], consumers=0) as site:
        cfg = load_central_config(site.central_conf)
        consumers = [
            CentralConsumer(replace(cfg, central=replace(cfg.central, consumer=f"central-{i}")))
            for i in (1, 2)
        ]
        threads = [threading.Thread(target=c.run, daemon=True) for c in consumers]
        for th in threads:
            th.start()
        clerk = Clerk(site, "b1")
        try:
            assert all(c.connected.wait(15) for c in consumers)
            for _ in range(15):
                clerk.issue("A")
            assert site.converged(30), site.compare()
            applied = [c.stats.applied for c in consumers]
            assert all(n > 0 for n in applied), applied  # each took a share
            assert sum(applied) >= 15
        finally:
            clerk.close()
            for c in consumers:
                c.stop()
            for th in threads:
                th.join(10)
