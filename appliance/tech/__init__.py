"""Technician tooling: units, broker provisioning, install, day reports."""
