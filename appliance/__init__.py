"""Nidaa (نداء): a queue-calling appliance for government service centres."""

__version__ = "0.1.0"
