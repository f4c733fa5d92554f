"""The hall display in ``nidaa demo``: the real daemon, headless.

:class:`HallSim` runs the hall display in ``nidaa demo`` and ``nidaa bench``;
:func:`demo_role` starts
``nidaa display --headless`` as its own process on the virtual branch's
broker, which saves a screenshot of the screen at each new call in
``<out>/display/shots/call-0001-A001.png`` … and each announcement (chime and
voice) as ``<out>/display/audio/call-0001.wav`` …, up to ``recorded_calls``
of each (a whole simulated day has hundreds of calls; a 1080p PNG and an
8-second WAV are about 0.1 and 0.3 MB).  Its log is ``<out>/display.log``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..harness.procs import Daemon

if TYPE_CHECKING:
    from ..hooks import BenchContext, DemoContext

DEMO_MAX_CALLS = 40


def demo_role(
    ctx: DemoContext, *, recorded_calls: int | None = DEMO_MAX_CALLS, calls_log: Path | None = None
) -> Daemon:
    """Start the display daemon for the virtual branch ``ctx`` (a DemoContext),
    keeping a screenshot and a recording of its first ``recorded_calls``
    calls.  ``recorded_calls=None``: none kept, the display runs as its
    installed unit does (its configured speaker, on SDL's dummy driver).
    With ``calls_log`` it appends a JSON line per call drawn (the load run)."""
    if recorded_calls is not None and recorded_calls < 1:
        raise ValueError(f"recorded_calls must be None or at least 1, not {recorded_calls}")
    out = ctx.out / "display"
    args = ["display", "--config", str(ctx.config_path), "--broker", ctx.broker_url, "--headless"]
    if recorded_calls is not None:
        args += ["--shots", str(out / "shots"), "--record-audio", str(out / "audio"),
                 "--max-calls", str(recorded_calls)]  # fmt: skip
    if calls_log is not None:
        args += ["--calls-log", str(calls_log)]
    env = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return Daemon(args, ctx.out / "display.log", env=env).start()


class HallSim:
    """The hall display in the simulator (:class:`~appliance.sim.hooks.RoleSim`)."""

    name = "hall"

    def demo(self, ctx: DemoContext) -> Daemon:
        return demo_role(ctx)

    def bench(self, ctx: BenchContext) -> dict[str, float]:
        """Measured on the bench's broker."""
        from ..bench.hall import bench_display

        return bench_display(ctx.config, ctx.broker_url)
