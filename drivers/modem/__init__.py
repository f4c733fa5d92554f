"""GSM modems: one interface (:mod:`.interface`), the AT backend over pyserial
(:mod:`.at`) and a simulated modem on a pty (:mod:`.sim`) for tests and demos."""

from .interface import PERMANENT_CMS, Health, Modem, ModemError

__all__ = ["PERMANENT_CMS", "Health", "Modem", "ModemError"]
