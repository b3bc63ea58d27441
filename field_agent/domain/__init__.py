"""The domain: record rules, ID numbers, phones, special groups, roles and the demo town (no I/O, no UI)."""
