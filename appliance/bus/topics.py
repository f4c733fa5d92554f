"""Every MQTT topic Nidaa uses, built in this one module.

All topics live under ``nidaa/<branch>/``.  The layout is chosen so that a
Mosquitto ACL can grant each role exactly what it needs:

=====================================  =========================================
``cmd/ticket/<action>``                ticket commands (kiosks: ``issue``, ``void``)
``cmd/counter/<counter>/<action>``     a counter's commands (that counter only)
``cmd/queue/<action>``                 read-only queries (``snapshot``)
``cmd/request/<action>``               SMS request commands (clerks, back office)
``reply/<client id>``                  answers to one client's requests
``status/<role>/<unit>``               retained presence and health of a unit
``state/counter/<counter>``            retained: who is served at a counter
``state/service/<service>``            retained: waiting count and estimate
``event/<kind>``                       events with ids (``call``, ``stage``)
``sync/<kind>``                        the central store's feed (``change``,
                                       ``head``, ``branch``) and ``replay``
=====================================  =========================================

The central broker carries each bridged branch under ``branches/<branch>/``
(:class:`CentralTopics`, docs/central.md).
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "nidaa"

TICKET_ACTIONS = ("issue", "void")
COUNTER_ACTIONS = (
    "call-next",
    "recall",
    "no-show",
    "done",
    "transfer",
    "pause",
    "resume",
    "feedback",
)
QUEUE_ACTIONS = ("snapshot",)
EVENT_KINDS = ("call", "stage")
#: The central feed: numbered ticket changes, the last number (retained),
#: the branch's names and services (retained), and the centre's replay requests.
SYNC_KINDS = ("change", "head", "branch", "replay")
#: What a branch's bridge carries to the central broker, and the one path back.
SYNC_OUT = ("change", "head", "branch")
SYNC_IN = ("replay",)
CENTRAL_ROOT = "branches"


def _check_level(value: str, what: str) -> str:
    if not value or any(ch in value for ch in "/+#\x00"):
        raise ValueError(f"{what} {value!r} cannot be used in an MQTT topic")
    return value


@dataclass(frozen=True)
class Topics:
    """Topic builder for one branch."""

    branch: str

    def __post_init__(self) -> None:
        _check_level(self.branch, "branch id")

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.branch}"

    # -- commands ---------------------------------------------------------
    def ticket_cmd(self, action: str) -> str:
        return f"{self.base}/cmd/ticket/{_check_level(action, 'action')}"

    def counter_cmd(self, counter: str, action: str) -> str:
        counter = _check_level(counter, "counter id")
        return f"{self.base}/cmd/counter/{counter}/{_check_level(action, 'action')}"

    def queue_cmd(self, action: str) -> str:
        return f"{self.base}/cmd/queue/{_check_level(action, 'action')}"

    def request_cmd(self, action: str) -> str:
        return f"{self.base}/cmd/request/{_check_level(action, 'action')}"

    @property
    def all_commands(self) -> str:
        return f"{self.base}/cmd/#"

    def reply(self, client_id: str) -> str:
        return f"{self.base}/reply/{_check_level(client_id, 'client id')}"

    # -- presence ---------------------------------------------------------
    def status(self, role: str, unit: str) -> str:
        return f"{self.base}/status/{_check_level(role, 'role')}/{_check_level(unit, 'unit id')}"

    @property
    def all_status(self) -> str:
        return f"{self.base}/status/+/+"

    # -- retained state ---------------------------------------------------
    def counter_state(self, counter: str) -> str:
        return f"{self.base}/state/counter/{_check_level(counter, 'counter id')}"

    def service_state(self, service: str) -> str:
        return f"{self.base}/state/service/{_check_level(service, 'service id')}"

    @property
    def all_counter_states(self) -> str:
        return f"{self.base}/state/counter/+"

    @property
    def all_service_states(self) -> str:
        return f"{self.base}/state/service/+"

    # -- events -----------------------------------------------------------
    def event(self, kind: str) -> str:
        return f"{self.base}/event/{_check_level(kind, 'event kind')}"

    # -- the central store's feed ---------------------------------------------
    def sync(self, kind: str) -> str:
        if kind not in SYNC_KINDS:
            raise ValueError(f"no sync topic {kind!r}")
        return f"{self.base}/sync/{kind}"

    # -- ACL filters -------------------------------------------------------
    # Filters for the broker's acl_file (appliance/tech/accounts.py), kept
    # here so that the ACL follows any change of the layout above.  They
    # contain wildcards or Mosquitto's %c substitution: never publish to them.
    def counter_cmds(self, counter: str) -> str:
        """Every command of one counter."""
        return f"{self.base}/cmd/counter/{_check_level(counter, 'counter id')}/+"

    @property
    def all_request_cmds(self) -> str:
        return f"{self.base}/cmd/request/+"

    def role_status(self, role: str) -> str:
        """The status of every unit of one role."""
        return f"{self.base}/status/{_check_level(role, 'role')}/+"

    @property
    def all_states(self) -> str:
        return f"{self.base}/state/#"

    @property
    def all_topics(self) -> str:
        return f"{self.base}/#"

    @property
    def own_reply(self) -> str:
        """The reply topic of whichever client reads it (Mosquitto's %c)."""
        return f"{self.base}/reply/%c"

    # -- benchmark ----------------------------------------------------------
    @property
    def bench_echo(self) -> str:
        """The echo service `nidaa bench` measures its floor with."""
        return f"{self.base}/bench/echo"

    # -- parsing ----------------------------------------------------------
    def parse_command(self, topic: str) -> tuple[str, str, str | None]:
        """Split a command topic into ``(group, action, counter)``.

        ``group`` is ``ticket``, ``counter``, ``queue`` or ``request``;
        ``counter`` is set only for counter commands.  Raises ``ValueError``
        for a topic that is not a command of this branch.
        """
        prefix = f"{self.base}/cmd/"
        if not topic.startswith(prefix):
            raise ValueError(f"not a command topic of branch {self.branch!r}: {topic!r}")
        parts = topic[len(prefix) :].split("/")
        if parts[0] == "counter" and len(parts) == 3:
            return "counter", parts[2], parts[1]
        if parts[0] in ("ticket", "queue", "request") and len(parts) == 2:
            return parts[0], parts[1], None
        raise ValueError(f"unknown command topic {topic!r}")

    def parse_status(self, topic: str) -> tuple[str, str]:
        """``status/<role>/<unit>`` → ``(role, unit)``."""
        prefix = f"{self.base}/status/"
        if not topic.startswith(prefix):
            raise ValueError(f"not a status topic: {topic!r}")
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 2:
            raise ValueError(f"not a status topic: {topic!r}")
        return parts[0], parts[1]


@dataclass(frozen=True)
class CentralTopics:
    """Topics of one branch on the central broker: the branch's ``nidaa/<b>/``
    remapped by its bridge to ``branches/<b>/``; ``branch="+"`` gives the
    filters a central consumer subscribes to."""

    branch: str

    def __post_init__(self) -> None:
        if self.branch != "+":
            _check_level(self.branch, "branch id")

    @property
    def base(self) -> str:
        return f"{CENTRAL_ROOT}/{self.branch}"

    def sync(self, kind: str) -> str:
        if kind not in SYNC_KINDS:
            raise ValueError(f"no sync topic {kind!r}")
        return f"{self.base}/sync/{kind}"

    @property
    def link(self) -> str:
        """The bridge's connection notification: retained ``1``, Last Will ``0``."""
        return f"{self.base}/link"

    @staticmethod
    def shared(group: str, topic_filter: str) -> str:
        """An MQTT v5 shared subscription: each message to one member of ``group``."""
        return f"$share/{_check_level(group, 'group')}/{topic_filter}"

    @staticmethod
    def parse(topic: str) -> tuple[str, str]:
        """``branches/<b>/sync/<kind>`` → ``(b, kind)``; ``branches/<b>/link`` →
        ``(b, "link")``.  ``ValueError`` for anything else."""
        parts = topic.split("/")
        ok = len(parts) == 4 and parts[0] == CENTRAL_ROOT and parts[1] and parts[2] == "sync"
        if ok and parts[3] in SYNC_KINDS:
            return parts[1], parts[3]
        if len(parts) == 3 and parts[0] == CENTRAL_ROOT and parts[2] == "link" and parts[1]:
            return parts[1], "link"
        raise ValueError(f"not a central topic: {topic!r}")
