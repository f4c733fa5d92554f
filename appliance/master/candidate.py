"""A master candidate of a branch with ``[ha]``: active, or standby to the active one.

The same daemon as :class:`~appliance.master.daemon.MasterDaemon`, with
leadership on etcd (:mod:`appliance.master.standby`):

- as *standby* it applies the active master's log to its own database every
  tick, answers nothing (the active master answers) and publishes no state;
  when the leader key is vacant (the active master's lease expired) it
  claims it, catches up to the log's end, reloads the queue from its
  database, publishes the retained state and serves;
- as *active* master every transaction commits through a fenced etcd
  transaction; when etcd says its lease is gone, or refuses a commit because
  another master leads, it steps down, says so on its status topic and
  follows again.

Its status (``status/master/<unit>``) is ``online`` only while active, and
``standby`` otherwise, with the log position, the standby's lag and the
etcd members' health (``nidaa status``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..bus.client import Message
from ..clock import Clock
from ..config.branch import Config
from ..errors import NidaaError
from .daemon import MasterDaemon
from .etcd import Etcd
from .health import EtcdHealth
from .standby import Standby

log = logging.getLogger(__name__)

#: Seconds between two looks at the log and the leader key while standby.
FOLLOW_S = 0.2
#: Seconds between two status reports (log position, lag, etcd health).
REPORT_S = 2.0


class CandidateMaster(MasterDaemon):
    def __init__(
        self,
        config: Config,
        *,
        db_path: str,
        unit: str | None = None,
        broker_url: str | None = None,
        clock: Clock = time.time,
        etcd: Etcd | None = None,
    ) -> None:
        super().__init__(config, db_path=db_path, broker_url=broker_url, clock=clock, unit=unit)
        assert config.ha is not None
        if self.unit not in config.ha.candidates:
            raise NidaaError(f"unit {self.unit!r} is not one of ha.candidates")
        self.standby = Standby(config, self.unit, self.store, etcd)
        #: etcd's health, probed apart from the worker (it may take seconds).
        self.health = EtcdHealth(self.standby, REPORT_S)
        self.tick_s = FOLLOW_S
        #: Times this candidate became the active master.
        self.takeovers = 0
        self._active = False
        self._last_house = 0.0
        self._last_report = 0.0
        self._etcd_trouble = ""
        self.bus.set_status("standby", ha="standby")

    # -- serving only while active ---------------------------------------------------
    def handle_batch(self, batch: list[Message]) -> None:
        if not self.standby.leading:
            return  # the active master answers these
        # A commit that failed may have reached the log: take it first, so a
        # kiosk asking again with the same id gets that first answer.  Not
        # while etcd was just unreachable (the command would wait twice).
        quiet_s = time.monotonic() - self.standby.unreachable_at
        if self.standby.behind and quiet_s > self.standby.ha.request_timeout_s:
            self._resync()
        super().handle_batch(batch)
        if not self.standby.leading:
            self._step_down()

    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        error = body.get("error") if not body.get("ok") else None
        if isinstance(error, dict) and error.get("code") == "not_master":
            return  # fenced: the active master answers this command
        super()._answer(msg, body)

    def republish(self) -> None:
        if self.standby.leading:
            super().republish()

    def _control(self, task: str) -> None:
        if self.standby.leading:
            super()._control(task)
        elif task.startswith("gateway:"):
            _, online, unit = task.split(":", 2)
            self.requests.gateways[unit] = online == "1"  # sent once active
        # A standby neither republishes nor replays the central feed.

    # -- the tick ---------------------------------------------------------------------
    def housekeeping(self) -> None:
        now = time.monotonic()
        try:
            if self.standby.leading:
                if now - self._last_house >= 1.0:
                    self._last_house = now
                    super().housekeeping()
                    self.standby.compact_if_due()
            else:
                if self._active:
                    self._step_down()
                self.standby.poll()
                if self.standby.leader_unit is None and self.standby.campaign():
                    self._take_over()
            if self._etcd_trouble:
                log.warning("etcd reachable again")
                self._etcd_trouble = ""
        except NidaaError as exc:
            if str(exc) != self._etcd_trouble:
                log.warning("etcd: %s", exc)  # once per new trouble, not every tick
            self._etcd_trouble = str(exc)
        if now - self._last_report >= REPORT_S:
            self._last_report = now
            self._report()

    def _take_over(self) -> None:
        self._active = True
        self.takeovers += 1
        self._reload()  # the queue as the log left it
        self._report()
        self.republish()
        self.requests.publish(force=True)

    def _step_down(self) -> None:
        self._active = False
        self._reload()  # nothing uncommitted may remain in memory
        self._report()

    def _resync(self) -> None:
        """An entry of ours reached etcd though its request failed: take it."""
        try:
            self.standby.catch_up()
            self.standby.behind = False
        except NidaaError as exc:
            self.standby.unreachable_at = time.monotonic()
            log.warning("could not catch up with the log: %s", exc)
        self._reload()

    def _report(self) -> None:
        """The status topic: leadership and the log position from this thread,
        etcd's health and the standby's lag from the last probe (never an etcd
        request here: the worker goes on answering while etcd is slow)."""
        leading = self.standby.leading
        probed = self.health.latest()
        position = self.standby.position
        details: dict[str, Any] = {
            "ha": "active" if leading else "standby",
            "leader": self.standby.leader_unit,
            "log_seq": position,
            "zombie_commits_refused": self.standby.zombie_refused,
            **{k: v for k, v in probed.items() if k != "positions"},
        }
        if leading and "positions" in probed:
            details["lag"] = {
                u: position - p for u, p in probed["positions"].items() if u != self.unit
            }
        faults = []
        if details.get("etcd_up", 3) * 2 <= details.get("etcd_members", 3):
            faults.append({"code": "no_quorum", "message": "etcd has no quorum"})
        self.bus.set_status("online" if leading else "standby", faults, **details)

    def run(self) -> None:
        self.health.start()
        try:
            super().run()
        finally:
            self.health.close()
            self.standby.resign()
            self.standby.close()
