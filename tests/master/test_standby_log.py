"""The fenced log on a real etcd cluster, driven in-process: claims, a zombie
commit refused, a standby following, compaction and a snapshot restored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config.branch import Config, load_config, parse_config
from appliance.errors import ConfigError, QueueError
from appliance.master.etcd import EtcdError, prefix_end
from appliance.master.standby import Standby
from appliance.master.store import PURGE_STEP, Store
from appliance.sim.harness.etcd import EtcdCluster
from appliance.sim.harness.procs import wait_until
from appliance.tech.accounts import accounts
from tests.support import EXAMPLE_CONFIG, write_config
from tests.support.etcd import ha_section


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    with EtcdCluster(tmp_path_factory.mktemp("etcd")) as c:
        yield c


def ha_config(tmp_path: Path, cluster: EtcdCluster, **ha: object) -> Config:
    path = write_config(tmp_path, "mqtt://127.0.0.1:1")
    with path.open("a", encoding="utf-8") as f:
        f.write(ha_section(cluster.endpoints, lease_s=1.0, **ha))
    return load_config(path)


def candidate(cfg: Config, tmp_path: Path, unit: str) -> Standby:
    return Standby(cfg, unit, Store(tmp_path / f"{unit}.db"))


def add_sequence(s: Standby, day: str, last: int) -> None:
    with s.store.transaction():
        s.store.db.execute(
            "INSERT INTO sequences (business_day, service, last) VALUES (?, 'building', ?)"
            " ON CONFLICT(business_day, service) DO UPDATE SET last = excluded.last",
            (day, last),
        )


def sequences(s: Standby) -> list[tuple[str, int]]:
    return list(s.store.db.execute("SELECT business_day, last FROM sequences ORDER BY 1"))


def test_claim_commit_follow_and_a_zombie_refused(cluster: EtcdCluster, tmp_path: Path) -> None:
    cfg = ha_config(tmp_path, cluster)
    a, b = candidate(cfg, tmp_path, "master"), candidate(cfg, tmp_path, "master-b")
    assert a.campaign() is True
    assert b.campaign() is False  # the second claim is refused
    add_sequence(a, "2026-01-01", 7)
    b.poll()
    assert sequences(b) == [("2026-01-01", 7)] and b.position == a.position == 1
    assert b.leader_unit == "master"
    # A standby may not commit: it is not the active master.
    with pytest.raises(QueueError) as refused:
        add_sequence(b, "2026-01-02", 1)
    assert refused.value.code == "not_master"
    assert sequences(b) == [("2026-01-01", 7)]

    # "Pause" the active master: its lease is no longer renewed and expires.
    a._stop.set()
    assert wait_until(lambda: b.poll() >= 0 and b.leader_unit is None, 15, 0.1)
    assert b.campaign() is True
    add_sequence(b, "2026-01-01", 8)
    # The old master still believes it leads; etcd refuses its commit.
    assert a.leading
    with pytest.raises(QueueError) as fenced:
        add_sequence(a, "2026-01-01", 99)
    assert fenced.value.code == "not_master"
    assert a.zombie_refused == 1 and not a.leading
    assert sequences(a) == [("2026-01-01", 7)]  # rolled back, nothing of its own
    a.poll()
    assert sequences(a) == [("2026-01-01", 8)] and a.position == b.position == 2
    b.resign()
    for s in (a, b):
        s.close()


def test_an_entry_that_landed_after_its_request_failed_is_caught_up(
    cluster: EtcdCluster, tmp_path: Path
) -> None:
    """etcd may commit a transaction whose answer never came (no_quorum at the
    master): the next commit finds the log ahead, is refused, and the master
    takes the entry before committing anything else."""
    cfg = ha_config(tmp_path, cluster)
    a = candidate(cfg, tmp_path, "master")
    assert a.campaign()
    add_sequence(a, "2026-04-01", 1)
    # What the lost request had written: entry 2, the rows it carried.
    landed = {"seq": 2, "unit": "master", "changes": [["sequences", ["2026-04-02", "building"],
              ["2026-04-02", "building", 5]]]}  # fmt: skip
    a.etcd.put(a.log_key(2), json.dumps(landed).encode())
    with pytest.raises(QueueError) as refused:
        add_sequence(a, "2026-04-03", 9)
    assert refused.value.code == "storage" and a.behind and a.leading
    a.catch_up()
    assert sequences(a) == [("2026-04-01", 1), ("2026-04-02", 5)] and a.position == 2
    add_sequence(a, "2026-04-03", 9)
    assert a.position == 3
    a.resign()
    a.close()


def commands(s: Standby) -> list[str]:
    return [r[0] for r in s.store.db.execute("SELECT id FROM commands ORDER BY id")]


def test_a_purge_too_large_for_one_etcd_request_goes_in_steps(
    cluster: EtcdCluster, tmp_path: Path
) -> None:
    """12,000 command ids of 128 characters: deleting them in one transaction
    is one log entry over etcd's 1.5 MiB (refused, nothing deleted); the
    purge deletes them in steps, one entry each, and the standby follows."""
    cfg = ha_config(tmp_path, cluster)
    a, b = candidate(cfg, tmp_path, "master"), candidate(cfg, tmp_path, "master-b")
    assert a.campaign()
    for batch in range(12):
        with a.store.transaction():
            for i in range(1000):
                cid = f"{batch:02d}{i:04d}".ljust(128, "x")
                a.store.record_command(cid, "ticket/issue", {"ok": True}, 1000.0 + batch)
    with a.store.transaction():
        a.store.record_command("recent", "ticket/issue", {"ok": True}, 5000.0)
    b.catch_up()
    assert len(commands(b)) == 12_001
    with pytest.raises(EtcdError, match="too large"), a.store.transaction():
        a.store.db.execute("DELETE FROM commands WHERE applied_at < 2000")
    assert len(commands(a)) == 12_001 and a.leading  # rolled back, still the master
    start = a.position
    assert a.store.purge_commands(2000.0) == 12_000
    assert a.position - start == 12_000 // PURGE_STEP  # one entry a step
    b.catch_up()
    assert commands(b) == commands(a) == ["recent"] and b.position == a.position
    a.resign()
    for s in (a, b):
        s.close()


def test_compaction_and_a_new_standby_from_the_snapshot(
    cluster: EtcdCluster, tmp_path: Path
) -> None:
    cfg = ha_config(tmp_path, cluster, compact_after=10)
    a = candidate(cfg, tmp_path, "master")
    assert a.campaign()
    for i in range(12):
        add_sequence(a, f"2026-02-{i + 1:02d}", i)
    assert a.compact_if_due() is True and a.snapshot_seq == 12
    _, kept = a.etcd.range(a.log_prefix, prefix_end(a.log_prefix))
    assert [kv.key[-2:] for kv in kept] == [b"12"]  # entries before the snapshot deleted
    add_sequence(a, "2026-03-01", 50)
    # A standby with an empty database (a new SD card) restores the snapshot, then the tail.
    fresh = candidate(cfg, tmp_path, "master-b")
    while fresh.poll():
        pass
    assert fresh.position == a.position == 13
    assert sequences(fresh) == sequences(a) and len(sequences(a)) == 13
    assert fresh.positions() == {"master": 13, "master-b": 13}
    a.resign()
    for s in (a, fresh):
        s.close()


def test_the_ha_section_is_checked(tmp_path: Path) -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    bad = (
        '\n[ha]\nendpoints = ["https://10.0.0.1:2379", "ftp://x", "https://10.0.0.1:2379"]\n'
        'candidates = ["master-b", "Bad Id"]\nlease_s = 0.1\n'
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text + bad)
    paths = {p for p, _ in err.value.problems}
    assert {"ha.endpoints[1]", "ha.endpoints", "ha.candidates[1]", "ha.ca_file"} <= paths
    assert {"ha.lease_s", "ha.candidates"} <= paths  # too short; master.unit is no candidate
    mixed = text.replace(
        'url = "mqtt://127.0.0.1:1883"',
        'url = "mqtt://127.0.0.1:1883"\nfallback_urls = ["mqtts://10.0.0.2:8883"]',
        1,
    )
    with pytest.raises(ConfigError) as err:
        parse_config(mixed)
    assert [p for p, _ in err.value.problems] == ["broker.fallback_urls[0]"]
    slow = text.replace(
        "[[kiosks]]", "[[kiosks]]\nrequest_timeout_s = 0.5\nrequest_attempts = 1", 1
    )
    ok_ha = '\n[ha]\nendpoints = ["http://10.0.0.1:2379"]\ncandidates = ["master", "master-b"]\n'
    with pytest.raises(ConfigError) as err:
        parse_config(slow + ok_ha)
    assert [p for p, _ in err.value.problems] == ["kiosks[0].request_timeout_s"]
    # etcd may hold the master's worker up to request_timeout_s a request:
    # two in a row must not outlast the broker's patience.
    patient = slow.replace("request_timeout_s = 0.5\n", "request_timeout_s = 20.0\n", 1)
    with pytest.raises(ConfigError) as err:
        parse_config(patient + ok_ha + "request_timeout_s = 11.25\n")  # keepalive 15 s
    assert [p for p, _ in err.value.problems] == ["ha.request_timeout_s"]
    parse_config(patient + ok_ha + "request_timeout_s = 11.0\n")
    with_ha = parse_config(text + ok_ha)
    # The standby candidate gets a master's broker account from nidaa provision.
    assert ("master-b", "master") in {(a.username, a.role) for a in accounts(with_ha)}
    assert parse_config(text).ha is None  # off by default


def test_no_ha_section_no_replication(tmp_path: Path) -> None:
    store = Store(tmp_path / "plain.db")
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert not any(name.startswith("ha_") for name in tables)
    assert store.before_commit is None
    assert store.db.execute("SELECT COUNT(*) FROM sqlite_temp_master").fetchone()[0] == 0
    store.close()
