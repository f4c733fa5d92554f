# Entry point on the RP2040 (MicroPython runs main.py after boot).

import time

import board
import machine
from display_app import build


def run() -> None:
    display = build(machine, board, time.ticks_ms, time.ticks_diff)
    while True:
        display.step(time.ticks_ms())
        time.sleep_ms(1)


run()
