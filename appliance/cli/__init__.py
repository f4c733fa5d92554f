"""The `nidaa` command."""
