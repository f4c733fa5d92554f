"""The real master's command pipeline with no broker: its answers are kept
for the test to read, nothing is published (fuzzing, fault injection and
query-plan tests drive it directly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.bus.client import Message
from appliance.config.branch import Config
from appliance.master.daemon import MasterDaemon


class OfflineMaster(MasterDaemon):
    """``now`` is the master's clock; a test may move it."""

    def __init__(self, config: Config, db: Path, now: float) -> None:
        self.now = now
        super().__init__(config, db_path=str(db), clock=lambda: self.now)
        self.answers: list[dict[str, Any]] = []

    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        self.answers.append(body)

    def publish_changes(self, changes: Any) -> None:
        pass

    def publish_events(self) -> None:
        pass
