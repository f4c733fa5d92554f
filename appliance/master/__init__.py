"""The master unit: single writer of the branch's queue state."""
