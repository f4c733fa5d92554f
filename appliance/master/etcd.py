"""A small etcd v3 client over etcd's JSON gateway (``/v3/...``), for the standby master.

Only what the standby needs: ranges, transactions, leases and member status.
Every endpoint of the cluster is listed; a request that one member cannot
answer in time goes to the next, so the cluster is usable while any member
that has a quorum behind it answers.  Keys and values are bytes, sent
base64-encoded as the gateway wants them.

Why not a client library: ``etcd3`` 0.12 breaks with protobuf 4, and
``etcd3gw`` talks to one host only (no failover across the members), through
``requests`` and two more dependencies; the gateway's JSON is a few lines.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..config.ha import Ha, etcd_endpoint
from ..errors import NidaaError


class EtcdUnavailable(NidaaError, ConnectionError):
    """No member committed the request in time: no quorum, or none reachable.

    Whether a transaction that timed out was applied is not known.
    """

    code = "no_quorum"


class EtcdError(NidaaError, RuntimeError):
    """etcd answered with an error (a request it refuses)."""

    code = "etcd"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def prefix_end(prefix: bytes) -> bytes:
    """The range end that selects every key starting with ``prefix``."""
    return prefix[:-1] + bytes([prefix[-1] + 1])


@dataclass(frozen=True)
class KeyValue:
    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    lease: int

    @classmethod
    def parse(cls, kv: dict[str, Any]) -> KeyValue:
        return cls(
            unb64(kv["key"]),
            unb64(kv.get("value", "")),
            int(kv.get("create_revision", 0)),
            int(kv.get("mod_revision", 0)),
            int(kv.get("lease", 0)),
        )


# -- transaction parts (the gateway's JSON shapes) -------------------------------
def compare(key: bytes, target: str, value: int, result: str = "EQUAL") -> dict[str, Any]:
    """Compare a key's ``CREATE``, ``MOD`` or ``VERSION`` revision with ``value``."""
    field = {"CREATE": "create_revision", "MOD": "mod_revision", "VERSION": "version"}[target]
    return {"key": b64(key), "target": target, "result": result, field: str(value)}


def put(key: bytes, value: bytes, lease: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
    if lease:
        body["lease"] = str(lease)
    return {"request_put": body}


def get(key: bytes, range_end: bytes | None = None) -> dict[str, Any]:
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_range": body}


def delete(key: bytes, range_end: bytes | None = None) -> dict[str, Any]:
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_delete_range": body}


@dataclass(frozen=True)
class TxnResult:
    succeeded: bool
    revision: int
    responses: list[dict[str, Any]]

    def kvs(self, index: int) -> list[KeyValue]:
        """The key-values of the ``index``-th response (a range)."""
        rng = self.responses[index].get("response_range", {})
        return [KeyValue.parse(kv) for kv in rng.get("kvs", [])]


class Etcd:
    """A client of one etcd cluster; thread-safe (one connection per thread)."""

    def __init__(
        self,
        endpoints: list[str],
        *,
        timeout_s: float = 2.0,
        ca_file: str = "",
        cert_file: str = "",
        key_file: str = "",
    ) -> None:
        self.endpoints = [etcd_endpoint(u) for u in endpoints]
        self.urls = list(endpoints)
        self.timeout_s = timeout_s
        self._tls: ssl.SSLContext | None = None
        if any(tls for _, _, tls in self.endpoints):
            self._tls = ssl.create_default_context(cafile=ca_file or None)
            if cert_file:
                self._tls.load_cert_chain(cert_file, key_file or None)
        self._local = threading.local()
        self._preferred = 0

    @classmethod
    def from_config(cls, ha: Ha) -> Etcd:
        return cls(
            ha.endpoints,
            timeout_s=ha.request_timeout_s,
            ca_file=ha.ca_file,
            cert_file=ha.cert_file,
            key_file=ha.key_file,
        )

    # -- transport ---------------------------------------------------------------
    def _connection(self, index: int) -> http.client.HTTPConnection:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("c", {})
        conn = conns.get(index)
        if conn is None:
            host, port, tls = self.endpoints[index]
            if tls:
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout_s, context=self._tls
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
            conns[index] = conn
        return conn

    def _drop(self, index: int) -> None:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("c", {})
        conn = conns.pop(index, None)
        if conn is not None:
            conn.close()

    def call_one(
        self, index: int, path: str, body: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        """One request to member ``index``; ``EtcdUnavailable`` if it cannot answer."""
        data = json.dumps(body).encode("ascii")
        wait = self.timeout_s if timeout_s is None else max(0.05, timeout_s)
        try:
            conn = self._connection(index)
            conn.timeout = wait
            if conn.sock is not None:
                conn.sock.settimeout(wait)
            conn.request("POST", path, data, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop(index)
            raise EtcdUnavailable(f"{self.urls[index]}: {exc or type(exc).__name__}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise EtcdError(f"{self.urls[index]}: not JSON: {raw[:100]!r}") from None
        if resp.status != 200 or "error" in answer:
            message = str(answer.get("error") or answer.get("message") or resp.status)
            unavailable = resp.status in (503, 504) or any(
                word in message
                for word in ("timed out", "no leader", "leader changed", "unhealthy")
            )
            if unavailable:
                raise EtcdUnavailable(f"{self.urls[index]}: {message}")
            raise EtcdError(f"{self.urls[index]}: {message}")
        return dict(answer)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A request to the cluster within ``timeout_s``: the member that answered
        last first, then the others in turn (an election among the members
        takes a second or two: the request waits for it)."""
        problems: dict[str, str] = {}
        deadline = time.monotonic() + self.timeout_s
        index = self._preferred
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                # A member cut off from the others holds a request until its own
                # timeout (seconds): give each a share and go on to the next.
                answer = self.call_one(index, path, body, min(left, max(0.5, self.timeout_s / 3)))
            except EtcdUnavailable as exc:
                problems[self.urls[index]] = str(exc)
                index = (index + 1) % len(self.endpoints)
                if index == self._preferred:
                    time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                continue
            self._preferred = index
            return answer
        raise EtcdUnavailable("no etcd member answered: " + "; ".join(problems.values()))

    def close(self) -> None:
        for index in range(len(self.endpoints)):
            self._drop(index)

    # -- key-value -----------------------------------------------------------------
    def range(
        self, key: bytes, range_end: bytes | None = None, *, limit: int = 0
    ) -> tuple[int, list[KeyValue]]:
        """``(revision, key-values)`` of ``key`` (up to ``range_end``), linearizable."""
        body: dict[str, Any] = {"key": b64(key)}
        if range_end is not None:
            body["range_end"] = b64(range_end)
        if limit:
            body["limit"] = str(limit)
        answer = self.call("/v3/kv/range", body)
        kvs = [KeyValue.parse(kv) for kv in answer.get("kvs", [])]
        return int(answer["header"]["revision"]), kvs

    def get(self, key: bytes) -> KeyValue | None:
        return next(iter(self.range(key)[1]), None)

    def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        answer = self.call("/v3/kv/put", put(key, value, lease)["request_put"])
        return int(answer["header"]["revision"])

    def txn(
        self,
        compares: list[dict[str, Any]],
        success: list[dict[str, Any]],
        failure: list[dict[str, Any]] | None = None,
    ) -> TxnResult:
        body = {"compare": compares, "success": success, "failure": failure or []}
        answer = self.call("/v3/kv/txn", body)
        return TxnResult(
            bool(answer.get("succeeded", False)),
            int(answer["header"]["revision"]),
            list(answer.get("responses", [])),
        )

    # -- leases --------------------------------------------------------------------
    def lease_grant(self, ttl_s: float) -> int:
        answer = self.call("/v3/lease/grant", {"TTL": str(max(1, round(ttl_s)))})
        return int(answer["ID"])

    def lease_keepalive(self, lease: int) -> int:
        """Renew ``lease``; its TTL in seconds, 0 when it has expired."""
        answer = self.call("/v3/lease/keepalive", {"ID": str(lease)})
        return int(answer.get("result", {}).get("TTL", 0))

    def lease_revoke(self, lease: int) -> None:
        with contextlib.suppress(EtcdError):  # already gone
            self.call("/v3/lease/revoke", {"ID": str(lease)})

    # -- health --------------------------------------------------------------------
    def member_status(self) -> list[dict[str, Any]]:
        """Each endpoint's status: ``{"endpoint", "ok", "leader", "db_bytes", "error"}``."""
        found = []
        for index, url in enumerate(self.urls):
            try:
                s = self.call_one(index, "/v3/maintenance/status", {}, min(self.timeout_s, 0.5))
            except NidaaError as exc:
                found.append({"endpoint": url, "ok": False, "error": str(exc)})
                continue
            member = s.get("header", {}).get("member_id")
            found.append(
                {
                    "endpoint": url,
                    "ok": True,
                    "leader": member is not None and member == s.get("leader"),
                    "db_bytes": int(s.get("dbSize", 0)),
                    "raft_index": int(s.get("raftIndex", 0)),
                }
            )
        return found
