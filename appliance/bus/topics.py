"""Every MQTT topic Nidaa uses, built in this one module.

All topics live under ``nidaa/<branch>/``.  The layout is chosen so that a
Mosquitto ACL can grant each role exactly what it needs:

==========================================  ======================================
``cmd/<unit>/ticket/<action>``              ticket commands (kiosks: ``issue``, ``void``)
``cmd/<unit>/counter/<counter>/<action>``   a counter's commands (its unit: that counter only)
``cmd/<unit>/queue/<action>``               read-only queries (``snapshot``)
``cmd/<unit>/request/<action>``             SMS request commands (clerks, back office, gateway)
``reply/<unit>/<client id>``                answers to one client's requests
``status/<role>/<unit>``                    retained presence and health of a unit
``state/counter/<counter>``                 retained: who is served at a counter
``state/service/<service>``                 retained: waiting count and estimate
``event/<kind>``                            events with ids (``call``, ``stage``)
``sync/<kind>``                             the central store's feed (``change``,
                                            ``head``, ``branch``) and ``replay``
==========================================  ======================================

The central broker carries each bridged branch under ``branches/<branch>/``
(:class:`CentralTopics`, docs/central.md).

**The second level of a command topic is the sending unit's id**, and the
broker lets each unit's account publish only under its own
(``cmd/k1/...`` for kiosk ``k1``): the master takes the requester from that
level, never from the payload or the reply topic.  A request's reply topic
must be under the same unit (``reply/k1/k1``; the technician's tools, which
connect with ids of their own, ``reply/tech/<client id>``); the master
refuses any other before applying anything.
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
#: Command groups but ``counter``, whose topics name the counter too.
COMMAND_GROUPS = ("ticket", "queue", "request")


def _check_level(value: str, what: str) -> str:
    if not value or any(ch in value for ch in "/+#\x00"):
        raise ValueError(f"{what} {value!r} cannot be used in an MQTT topic")
    return value


@dataclass(frozen=True)
class CommandTopic:
    """A command topic, split: who sent it, and what it asks."""

    unit: str
    group: str
    action: str
    counter: str | None = None

    @property
    def name(self) -> str:
        """``ticket/issue``, ``counter/w1/call-next``: the command without its sender."""
        if self.counter is not None:
            return f"{self.group}/{self.counter}/{self.action}"
        return f"{self.group}/{self.action}"


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
    # ``unit`` is the sender: the broker lets a unit publish only under its own.
    def ticket_cmd(self, unit: str, action: str) -> str:
        return f"{self._cmd(unit)}/ticket/{_check_level(action, 'action')}"

    def counter_cmd(self, unit: str, counter: str, action: str) -> str:
        counter = _check_level(counter, "counter id")
        return f"{self._cmd(unit)}/counter/{counter}/{_check_level(action, 'action')}"

    def queue_cmd(self, unit: str, action: str) -> str:
        return f"{self._cmd(unit)}/queue/{_check_level(action, 'action')}"

    def request_cmd(self, unit: str, action: str) -> str:
        return f"{self._cmd(unit)}/request/{_check_level(action, 'action')}"

    def _cmd(self, unit: str) -> str:
        return f"{self.base}/cmd/{_check_level(unit, 'unit id')}"

    @property
    def all_commands(self) -> str:
        return f"{self.base}/cmd/#"

    def reply(self, unit: str, client_id: str) -> str:
        """Where the master answers ``client_id``, a client of ``unit``."""
        unit = _check_level(unit, "unit id")
        return f"{self.base}/reply/{unit}/{_check_level(client_id, 'client id')}"

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
    # Filters for the broker's rules (appliance/tech/accounts.py), kept here
    # so that the rules follow any change of the layout above.  They contain
    # wildcards: never publish to them.
    def unit_cmds(self, unit: str) -> str:
        """Every command a unit may send (the technician's lane)."""
        return f"{self._cmd(unit)}/#"

    def counter_cmds(self, unit: str, counter: str) -> str:
        """Every command of one counter, sent by ``unit``."""
        return f"{self._cmd(unit)}/counter/{_check_level(counter, 'counter id')}/+"

    def role_status(self, role: str) -> str:
        """The status of every unit of one role."""
        return f"{self.base}/status/{_check_level(role, 'role')}/+"

    @property
    def all_states(self) -> str:
        return f"{self.base}/state/#"

    @property
    def all_topics(self) -> str:
        return f"{self.base}/#"

    # -- the layout before per-unit command topics -------------------------
    # Used by the security drill alone, as a unit still running that release
    # would send them: the broker's rules refuse them (CHANGELOG.md).
    def legacy_ticket_cmd(self, action: str) -> str:
        return f"{self.base}/cmd/ticket/{_check_level(action, 'action')}"

    def legacy_reply(self, client_id: str) -> str:
        return f"{self.base}/reply/{_check_level(client_id, 'client id')}"

    # -- benchmark ----------------------------------------------------------
    @property
    def bench_echo(self) -> str:
        """The echo service `nidaa bench` measures its floor with."""
        return f"{self.base}/bench/echo"

    # -- parsing ----------------------------------------------------------
    def parse_command(self, topic: str) -> CommandTopic:
        """Split a command topic into its sender, group, action and counter.

        Raises ``ValueError`` for a topic that is not a command of this
        branch (the layout before per-unit command topics included).
        """
        prefix = f"{self.base}/cmd/"
        if not topic.startswith(prefix):
            raise ValueError(f"not a command topic of branch {self.branch!r}: {topic!r}")
        parts = topic[len(prefix) :].split("/")
        if all(parts):
            if len(parts) == 4 and parts[1] == "counter":
                return CommandTopic(parts[0], "counter", parts[3], parts[2])
            if len(parts) == 3 and parts[1] in COMMAND_GROUPS:
                return CommandTopic(parts[0], parts[1], parts[2])
        raise ValueError(f"unknown command topic {topic!r}")

    def reply_unit(self, topic: str | None) -> str | None:
        """The unit a reply topic belongs to (``reply/<unit>/<client id>``,
        no wildcard), or None for any other topic."""
        prefix = f"{self.base}/reply/"
        if not topic or not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 2 or not all(parts) or any(ch in topic for ch in "+#\x00"):
            return None
        return parts[0]

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
