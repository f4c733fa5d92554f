"""The kiosk unit: physical buttons, a ticket printer, and the master's numbers."""
