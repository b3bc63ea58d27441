"""Read-only questions the screens ask of the grid's read model; pure functions, run in thread workers."""
