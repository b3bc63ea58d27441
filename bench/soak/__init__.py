"""The soak: a week in the field with faults, end to end (see bench/soak.py and docs/SOAK.md)."""
