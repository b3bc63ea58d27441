"""Benchmark and soak scripts (run by hand, see docs/SOAK.md); a package so that tests import `bench.soak`."""
