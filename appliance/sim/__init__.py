"""The simulator: a whole virtual branch on one machine.

Nothing here runs on a unit; the roles never import this package.

* :mod:`appliance.sim.demo` — ``nidaa demo``: the virtual branch, its
  simulated people, the busy day, the chaos run and its reliability report;
* :mod:`appliance.sim.bench` — ``nidaa bench``: latency and throughput
  measured against a floor in the same run, per role and for a whole day;
* :mod:`appliance.sim.roles` — each role started in the virtual branch;
* :mod:`appliance.sim.harness` — the private Mosquitto and the unit
  processes that the demo, the bench and the test suite start.
"""
