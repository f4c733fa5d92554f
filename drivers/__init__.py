"""Hardware drivers, installed as ``appliance.drivers``.

Each device kind has one narrow interface and one module per backend; the
simulated backends ship here too and record what happened so tests can
assert on real bytes and real state.  Nothing here touches hardware at
import time.
"""
