"""The etcd side of the standby master: leadership, the fenced log, snapshots.

Keys, under ``/nidaa/<branch>/``:

``leader``
    The active master's unit id, attached to its lease.  Claimed only when
    absent (compare-and-set on its create revision); the revision of that
    claim is the master's *fencing token*.
``log/<seq>``
    One entry per committed transaction: the rows it wrote
    (:mod:`appliance.master.replica`).  Written only by a transaction that
    also checks ``leader`` still carries the token, so a master that was
    paused or cut off past its lease can never add to it (nor acknowledge
    anything: it answers only after this write and its own SQLite commit).
``snap/meta``, ``snap/<seq>/<chunk>``
    A snapshot of every row at entry ``seq``; the entries before it are
    deleted, so etcd stays small over months.
``pos/<unit>``
    The last entry each candidate's database holds (the standby's lag).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import threading
import time
import uuid

from ..config.branch import Config
from ..errors import QueueError
from .etcd import Etcd, EtcdError, EtcdUnavailable, KeyValue, compare, delete, get, prefix_end, put
from .replica import Replica
from .store import Store

log = logging.getLogger(__name__)

#: Bytes of one snapshot chunk (etcd takes requests up to 1.5 MiB, base64 adds a third).
CHUNK_BYTES = 512 * 1024
#: Log entries a standby applies in one SQLite transaction.
FOLLOW_BATCH = 256


def not_master(why: str) -> QueueError:
    return QueueError("not_master", f"this master is not the active one: {why}")


def no_quorum(exc: Exception) -> QueueError:
    return QueueError(
        "no_quorum",
        f"not saved: the masters' etcd cluster has no quorum (two of three members down?): {exc}",
    )


class Standby:
    """One candidate's view of the cluster.  The worker thread calls
    everything but the lease renewal, which runs on a thread of its own."""

    def __init__(self, config: Config, unit: str, store: Store, etcd: Etcd | None = None) -> None:
        assert config.ha is not None
        self.ha = config.ha
        self.unit = unit
        self.store = store
        self.etcd = etcd or Etcd.from_config(config.ha)
        self.replica = Replica(store.db)
        store.before_commit = self.before_commit
        base = f"/nidaa/{config.branch.id}/".encode()
        self.leader_key = base + b"leader"
        self.log_prefix = base + b"log/"
        self.snap_meta = base + b"snap/meta"
        self.snap_prefix = base + b"snap/"
        self.pos_prefix = base + b"pos/"
        self.lease = 0
        self.token = 0
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        #: The last leader seen: its unit id, or None when the key is absent.
        self.leader_unit: str | None = None
        #: Commits this master tried after losing leadership, refused by etcd.
        self.zombie_refused = 0
        #: An entry of ours may have reached etcd although its request failed
        #: (or did): follow the log before the next commit.
        self.behind = False
        #: When etcd last could not be reached (monotonic seconds).
        self.unreachable_at = float("-inf")
        self.snapshot_seq = 0
        self._pos_sent = -1
        self.why_not = "not elected yet"

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    @property
    def position(self) -> int:
        return self.replica.position

    def log_key(self, seq: int) -> bytes:
        return self.log_prefix + b"%020d" % seq

    # -- following ------------------------------------------------------------------
    def poll(self) -> int:
        """Read the leader key and apply the log entries this database lacks;
        the number applied (a snapshot counts as one)."""
        pos = self.replica.position
        log_range = get(self.log_key(pos + 1), prefix_end(self.log_prefix))
        log_range["request_range"]["limit"] = str(FOLLOW_BATCH)
        result = self.etcd.txn([], [get(self.leader_key), log_range])
        leader = result.kvs(0)
        self.leader_unit = _unit_of(leader[0]) if leader else None
        entries = result.kvs(1)
        if entries and _seq_of(entries[0].key) != pos + 1:
            self._restore_snapshot()
            return 1
        self._apply(entries)
        self._report_position()
        return len(entries)

    def catch_up(self) -> None:
        while self.poll():
            pass

    def _apply(self, entries: list[KeyValue]) -> None:
        if not entries:
            return
        with self.store.transaction(replicate=False):
            for kv in entries:
                entry = json.loads(kv.value)
                self.replica.apply(_seq_of(kv.key), entry["changes"])

    def _report_position(self) -> None:
        pos = self.replica.position
        if pos != self._pos_sent:
            self.etcd.put(self.pos_prefix + self.unit.encode(), str(pos).encode())
            self._pos_sent = pos

    # -- leadership -----------------------------------------------------------------
    def campaign(self) -> bool:
        """Claim leadership if nobody holds it; then catch up to the log's end."""
        lease = self.etcd.lease_grant(self.ha.lease_s)
        value = json.dumps({"unit": self.unit}).encode()
        result = self.etcd.txn(
            [compare(self.leader_key, "CREATE", 0)],
            [put(self.leader_key, value, lease)],
            [get(self.leader_key)],
        )
        if not result.succeeded:
            self.etcd.lease_revoke(lease)
            return False
        self.lease, self.token = lease, result.revision
        # The old master's lease is gone: it can add no entry, the log is complete.
        self.catch_up()
        meta = self.etcd.get(self.snap_meta)
        self.snapshot_seq = int(json.loads(meta.value)["seq"]) if meta else 0
        self._leading.set()
        self.leader_unit = self.unit
        self._renewer = threading.Thread(
            target=self._renew, args=(lease,), name="ha-lease", daemon=True
        )
        self._renewer.start()
        log.warning("%s is the active master (fencing token %d)", self.unit, self.token)
        return True

    def _renew(self, lease: int) -> None:
        """Renew the lease every third of its time.  Only etcd saying the lease
        is gone ends leadership here: while etcd cannot be reached, every
        commit is refused anyway (``no_quorum``), and fencing keeps it safe."""
        while self._leading.is_set() and self.lease == lease:
            if self._stop.wait(self.ha.lease_s / 3):
                return
            try:
                ttl = self.etcd.lease_keepalive(lease)
            except EtcdUnavailable:
                continue
            except EtcdError as exc:
                ttl, why = 0, str(exc)
            else:
                why = "lease expired"
            if ttl <= 0 and self.lease == lease:
                self.step_down(why)

    def step_down(self, why: str) -> None:
        if self._leading.is_set():
            log.warning("%s steps down: %s", self.unit, why)
        self.why_not = why
        self._leading.clear()
        self.lease = 0

    def resign(self) -> None:
        """Give leadership up at once (a clean stop): the standby need not wait."""
        lease = self.lease
        self.step_down("stopped")
        self._stop.set()
        if lease:
            with contextlib.suppress(EtcdUnavailable):
                self.etcd.lease_revoke(lease)

    # -- the fenced commit ---------------------------------------------------------
    def before_commit(self) -> None:
        """Inside the store's transaction, before COMMIT: append its rows to the
        log, guarded by the fencing token.  Raises (and the transaction rolls
        back) unless etcd committed the entry."""
        changes = self.replica.pending()
        if not changes:
            return
        if not self._leading.is_set():
            raise not_master(self.why_not)
        seq = self.replica.position + 1
        entry = json.dumps(
            {"seq": seq, "unit": self.unit, "nonce": uuid.uuid4().hex, "changes": changes},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        key = self.log_key(seq)
        try:
            result = self.etcd.txn(
                [compare(self.leader_key, "MOD", self.token), compare(key, "CREATE", 0)],
                [put(key, entry), put(self.pos_prefix + self.unit.encode(), str(seq).encode())],
                [get(self.leader_key), get(key)],
            )
        except EtcdUnavailable as exc:
            self.behind = True  # it may still land: compare with the log before the next
            self.unreachable_at = time.monotonic()
            raise no_quorum(exc) from None
        self.unreachable_at = float("-inf")  # etcd answered: a resync can go ahead
        if not result.succeeded:
            leader, logged = result.kvs(0), result.kvs(1)
            if logged and logged[0].value == entry:
                pass  # the client sent it again after a timeout; the first one landed
            elif leader and leader[0].mod_revision == self.token:
                self.behind = True
                raise QueueError("storage", "not saved: the log moved on; try again")
            else:
                self.zombie_refused += 1
                who = _unit_of(leader[0]) if leader else None
                log.warning("%s: commit refused by etcd: fenced (leadership is %s)",
                            self.unit, who or "vacant")  # fmt: skip
                self.step_down(f"fenced: leadership is {who or 'vacant'}")
                raise not_master(self.why_not)
        self.replica.set_position(seq)
        self.replica.clear()
        self._pos_sent = seq

    # -- snapshots ------------------------------------------------------------------
    def compact_if_due(self) -> bool:
        """Past ``compact_after`` entries since the last snapshot: a new one,
        and the entries before it deleted (in one fenced transaction)."""
        pos = self.replica.position
        if not self.leading or pos - self.snapshot_seq < self.ha.compact_after:
            return False
        data = gzip.compress(json.dumps(self.replica.dump(), separators=(",", ":")).encode())
        chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        folder = self.snap_prefix + b"%020d/" % pos
        for i, chunk in enumerate(chunks):
            self.etcd.put(folder + b"%06d" % i, chunk)
        meta = {"seq": pos, "chunks": len(chunks), "sha256": hashlib.sha256(data).hexdigest()}
        old = self.snap_prefix + b"%020d/" % self.snapshot_seq
        result = self.etcd.txn(
            [compare(self.leader_key, "MOD", self.token)],
            [
                put(self.snap_meta, json.dumps(meta).encode()),
                # The entry at ``pos`` stays: a standby just before it needs no snapshot.
                delete(self.log_key(0), self.log_key(pos)),
                delete(old, prefix_end(old)),
            ],
        )
        if not result.succeeded:
            self.etcd.txn([], [delete(folder, prefix_end(folder))])
            return False
        self.snapshot_seq = pos
        log.info("log compacted: snapshot at entry %d (%d bytes)", pos, len(data))
        return True

    def _restore_snapshot(self) -> None:
        meta = self.etcd.get(self.snap_meta)
        if meta is None:
            raise EtcdError("the log has a gap and no snapshot")
        info = json.loads(meta.value)
        folder = self.snap_prefix + b"%020d/" % int(info["seq"])
        _, kvs = self.etcd.range(folder, prefix_end(folder))
        data = b"".join(kv.value for kv in sorted(kvs, key=lambda kv: kv.key))
        if len(kvs) != info["chunks"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise EtcdError(f"snapshot {info['seq']} is incomplete")
        tables = json.loads(gzip.decompress(data))
        with self.store.transaction(replicate=False):
            self.replica.restore(int(info["seq"]), tables)
        log.warning("%s restored the snapshot at entry %d", self.unit, info["seq"])

    # -- reporting ------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        """Each candidate's last applied entry, as it last reported it."""
        _, kvs = self.etcd.range(self.pos_prefix, prefix_end(self.pos_prefix))
        return {kv.key[len(self.pos_prefix) :].decode(): int(kv.value) for kv in kvs}

    def close(self) -> None:
        self._stop.set()
        self.etcd.close()


def _seq_of(key: bytes) -> int:
    return int(key.rsplit(b"/", 1)[1])


def _unit_of(kv: KeyValue) -> str | None:
    try:
        unit = json.loads(kv.value).get("unit")
    except (ValueError, AttributeError):
        return None
    return unit if isinstance(unit, str) else None


def wait_leader(standby: Standby, timeout: float) -> bool:
    """Until some candidate leads (tools and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        standby.poll()
        if standby.leader_unit:
            return True
        time.sleep(0.1)
    return False
