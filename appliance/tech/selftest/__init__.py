"""Device self-tests a technician runs on a unit: ``nidaa test DEVICE``.

One small module per device; each has ``run(cfg, ...) -> SelfTest`` that
exercises the unit's own hardware through the daemons' drivers, with a
visible or audible result, and says what to check when it fails.
"""

from __future__ import annotations

from .result import SelfTest, Step

DEVICES = ("printer", "buttons", "display", "sound", "modem")

__all__ = ["DEVICES", "SelfTest", "Step"]
