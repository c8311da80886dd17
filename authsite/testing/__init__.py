"""Helpers shared by the test suites and the benchmarks (not used by the site)."""
