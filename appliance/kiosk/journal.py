"""The kiosk's journal of ticket requests in flight.

Between the master's answer and the paper coming out there are a few tens
of milliseconds in which a power cut or a kill leaves a number issued that
no citizen holds: it would wait in the queue and end as a no-show.  The
kiosk therefore notes each request before sending it and each step after,
durably, and a kiosk that starts again finds what was left open:

==========  ==============================================================
``asked``   the request was sent (or about to be): the master may have
            issued a number for it.  After a restart the same request is
            sent again (the master repeats its first answer) and the
            ticket voided.
``printing``  the paper was being printed: whether it came out is unknown,
            so it is **not** voided after a restart (voiding a ticket a
            citizen holds is worse than a no-show).
``failed``  the print failed: void it, as for ``asked``.
``settled`` printed, refused by the master, or voided: nothing left to do.
==========  ==============================================================

``asked``, ``printing`` and ``failed`` are written with fsync before the
step they announce; ``settled`` is not (losing it only means a request the
next start settles again).  The file is rewritten, compacted, at start-up.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OPEN = ("asked", "failed")


class PressJournal:
    """An append-only file of request steps; ``None`` keeps nothing (tests)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None

    def recover(self) -> list[dict[str, Any]]:
        """The requests to void, from what an earlier run left open; the
        file is compacted to those."""
        if self.path is None or not self.path.exists():
            return []
        last: dict[str, tuple[str, dict[str, Any] | None]] = {}
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    op, cid = str(entry["op"]), str(entry["id"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by the power cut
                command = entry.get("command") or (last.get(cid, ("", None))[1])
                last[cid] = (op, command)
        reopen: list[dict[str, Any]] = []
        for cid, (op, command) in last.items():
            if op in OPEN and command is not None:
                reopen.append(command)
            elif op == "printing":
                log.warning("request %s was printing when the kiosk stopped: not voided", cid)
        self._rewrite([{"op": "asked", "id": c["id"], "command": c} for c in reopen])
        return reopen

    def asked(self, command: dict[str, Any]) -> None:
        self._append({"op": "asked", "id": command["id"], "command": command}, sync=True)

    def printing(self, command_id: str) -> None:
        self._append({"op": "printing", "id": command_id}, sync=True)

    def failed(self, command_id: str) -> None:
        self._append({"op": "failed", "id": command_id}, sync=True)

    def settled(self, command_id: str) -> None:
        self._append({"op": "settled", "id": command_id}, sync=False)

    def _append(self, entry: dict[str, Any], *, sync: bool) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            if sync:
                f.flush()
                os.fsync(f.fileno())

    def _rewrite(self, entries: list[dict[str, Any]]) -> None:
        assert self.path is not None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for entry in entries:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
