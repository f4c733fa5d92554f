"""The project's exception hierarchy.

Every error raised on purpose derives from :class:`NidaaError`; each also
inherits the builtin it resembles, so callers that only know Python's own
exceptions still catch it.
"""

from __future__ import annotations


class NidaaError(Exception):
    """Root of every error Nidaa raises on purpose."""

    #: A short machine-readable code, sent in bus error answers.
    code = "error"


class ConfigError(NidaaError, ValueError):
    """The configuration does not validate.  ``problems`` holds every error
    found, each as ``(path, message)``, e.g. ``("services[2].prefix", ...)``."""

    code = "bad_config"

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"{where}{len(problems)} problem(s) in the configuration:"]
        lines += [f"  {path}: {message}" if path else f"  {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class UsageError(NidaaError, ValueError):
    """A command-line argument names nothing the configuration has (an
    unknown service letter or window): exit 2, as for any bad command line."""

    code = "usage"


class QueueError(NidaaError, ValueError):
    """A queue operation that cannot be applied; nothing was changed.

    ``code`` is one of the stable error codes listed in ``docs/protocol.md``.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class BusError(NidaaError, ConnectionError):
    """The broker or the master could not be reached in time."""

    code = "unreachable"


class AuthError(BusError, PermissionError):
    """The broker refused this credential, its client id or a topic: the
    network is fine, the account is not allowed (see docs/install.md)."""

    code = "not_authorized"


class HardwareError(NidaaError, OSError):
    """A device is missing, busy or answered something unusable."""

    code = "hardware"
