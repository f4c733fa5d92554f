"""The central service of many branches: the record of every branch's
tickets in PostgreSQL, fed over Mosquitto bridges (docs/central.md)."""
