"""``nidaa bench``: :mod:`.run` measures the floor and the master, and the
per-role modules (kiosk, counter, hall, SMS, queue engine) and :mod:`.day`
add their figures."""
