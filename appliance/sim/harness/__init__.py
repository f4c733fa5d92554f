"""Helpers shared by the test suite, `nidaa demo` and `nidaa bench`."""
