"""The kiosk's lights and buzzer: what a citizen sees and hears."""

from __future__ import annotations

import threading
from typing import Any

from ..drivers.buttons import output_device


class Panel:
    """Green LED on while the kiosk can give tickets, red LED on while it
    cannot; three short beeps when a press could not give a ticket.  Each
    part is optional (``None`` pin: not fitted); with no red LED the green
    one blinks during a fault."""

    def __init__(
        self,
        factory: Any,
        *,
        status_led: int | None = None,
        fault_led: int | None = None,
        buzzer: int | None = None,
    ) -> None:
        self._devices: list[Any] = []
        self._lock = threading.Lock()
        self._shown: bool | None = None
        self.status_led = self._make("led", status_led, factory)
        self.fault_led = self._make("led", fault_led, factory)
        self.buzzer = self._make("buzzer", buzzer, factory)

    def _make(self, kind: str, pin: int | None, factory: Any) -> Any:
        if pin is None:
            return None
        try:
            device = output_device(kind, pin, factory)
        except Exception:
            self.close()
            raise
        self._devices.append(device)
        return device

    def show(self, ok: bool) -> None:
        with self._lock:
            if self._shown == ok:
                return  # blinking restarts on every call: only act on changes
            self._shown = ok
            if self.status_led is not None:
                if ok or self.fault_led is not None:
                    self.status_led.value = ok
                else:
                    self.status_led.blink(on_time=0.3, off_time=0.3, background=True)
            if self.fault_led is not None:
                self.fault_led.value = not ok

    def alarm(self, beeps: int = 3) -> None:
        """Beep in the background (the kiosk goes on at once)."""
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.15, off_time=0.1, n=beeps, background=True)

    def close(self) -> None:
        for device in self._devices:
            device.close()
        self._devices = []
