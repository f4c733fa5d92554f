"""What a self-test found: one verdict, the steps tried, what to check.

Every device test builds a :class:`SelfTest` as it goes.  Each step is
reported the moment it is known (``progress``), so a technician watching the
SSH session sees "pin 5: pressed" as the button goes down, not at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[str], None]


def quiet(_line: str) -> None:
    """A progress sink that shows nothing (``--json``, tests)."""


@dataclass(frozen=True)
class Step:
    """One thing tried and what answered."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class SelfTest:
    """The record of one device test, filled in while it runs."""

    device: str
    unit: str
    progress: Progress = quiet
    steps: list[Step] = field(default_factory=list)
    #: What the technician should look at, most likely cause first.
    checks: list[str] = field(default_factory=list)
    #: Things worth knowing that do not fail the test (paper nearly out).
    warnings: list[str] = field(default_factory=list)
    #: Device-specific facts (signal in dBm, bytes printed...), for --json.
    details: dict[str, Any] = field(default_factory=dict)
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure and all(s.ok for s in self.steps)

    def step(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        self.progress(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def fail(self, name: str, detail: str, *checks: str) -> SelfTest:
        """Record the failing step and what to check; returns self so a test
        can ``return result.fail(...)``."""
        self.step(name, False, detail)
        if not self.failure:
            self.failure = f"{name}: {detail}"
        self.checks += [c for c in checks if c and c not in self.checks]
        return self

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.progress(f"  note {text}")

    @property
    def verdict(self) -> str:
        """The one line a technician reads first."""
        head = f"{self.device} test of {self.unit}"
        if self.ok:
            return f"PASS {head}" + (f" ({len(self.warnings)} note(s))" if self.warnings else "")
        return f"FAIL {head}: {self.failure}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "unit": self.unit,
            "ok": self.ok,
            "verdict": self.verdict,
            "steps": [s.as_dict() for s in self.steps],
            "checks": list(self.checks),
            "warnings": list(self.warnings),
            "details": dict(self.details),
        }
