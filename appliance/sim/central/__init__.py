"""Many virtual branches bridged to a central broker, the central consumer
and a private PostgreSQL: `nidaa demo --branches N --central`, `nidaa bench
--central` and the tests."""
